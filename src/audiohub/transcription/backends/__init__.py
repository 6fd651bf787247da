"""Transcription backends by name (TRANSCRIBER=...). Built-ins register here like plugins would."""

from __future__ import annotations

from collections.abc import Callable

from audiohub.config import Settings
from audiohub.errors import ConfigurationError
from audiohub.transcription.base import Transcriber


def _faster_whisper(settings: Settings) -> Transcriber:
    from audiohub.transcription.backends.faster_whisper import FasterWhisperTranscriber

    return FasterWhisperTranscriber(settings.whisper, settings.models_dir,
                                    settings.allow_downloads)


def _gemini(settings: Settings) -> Transcriber:
    from audiohub.transcription.backends.gemini import GeminiTranscriber

    return GeminiTranscriber(settings.llm)


TRANSCRIBERS: dict[str, Callable[[Settings], Transcriber]] = {
    "whisper": _faster_whisper, "gemini": _gemini}


def get_transcriber(settings: Settings) -> Transcriber:
    try:
        factory = TRANSCRIBERS[settings.transcriber]
    except KeyError:
        raise ConfigurationError(
            f"TRANSCRIBER={settings.transcriber!r} is unknown; choose one of {sorted(TRANSCRIBERS)}"
        ) from None
    return factory(settings)
