"""The transcription backend contract: audio in, a timed transcript out."""

from __future__ import annotations

from typing import ClassVar, Protocol

from audiohub.domain import Transcript
from audiohub.transcription.audio import DecodedAudio


class Transcriber(Protocol):
    """Turns decoded 16 kHz mono audio into a transcript with word timings.

    Implementations load their model once (at construction or first use) and are safe to call
    from worker threads.
    """

    name: ClassVar[str]

    def transcribe(self, audio: DecodedAudio) -> Transcript:
        """Transcribe the whole recording.

        Args:
            audio: samples from `audiohub.transcription.audio.decode_file`.

        Returns:
            The transcript; empty text and no segments when nobody speaks.
        """
        ...

    def load(self) -> None:
        """Load models now, so the first request does not pay for it (idempotent)."""
        ...

    def health(self) -> str:
        """A one-line status for GET /health (model name and whether it is loaded)."""
        ...
