"""The transcription stage: decode, transcribe, and detect domain/category (the seed's stage 1)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from audiohub.domain import Classification, TokenCount, TranscriptionResult
from audiohub.extraction.base import Analyzer
from audiohub.prompts.base import PromptStore
from audiohub.transcription.audio import DEFAULT_MAX_SECONDS, decode_file
from audiohub.transcription.base import DetectingTranscriber, Transcriber
from audiohub.transcription.speakers import assign_speakers


class TranscriptionService:
    def __init__(
        self, transcriber: Transcriber, analyzer: Analyzer, prompts: PromptStore,
        agent_channel: Literal["left", "right"] = "left",
        max_audio_seconds: float = DEFAULT_MAX_SECONDS,
    ) -> None:
        self.transcriber = transcriber
        self.analyzer = analyzer
        self.prompts = prompts
        # Which channel of a split stereo recording is the agent's (STEREO_AGENT_CHANNEL).
        self.agent_channel: Literal["left", "right"] = agent_channel
        # MAX_AUDIO_MINUTES: the decoded audio is held whole while it is transcribed.
        self.max_audio_seconds = max_audio_seconds

    def transcribe(self, audio_path: Path) -> TranscriptionResult:
        """Decode and transcribe a recording, tell its parties apart where the recording keeps them
        on separate stereo channels, then classify it among the stored pairs.

        Raises:
            InvalidInputError: the file is empty, not audio, truncated or corrupt
                (UnsupportedAudioError), or longer than MAX_AUDIO_MINUTES (AudioTooLongError).
        """
        audio = decode_file(audio_path, self.max_audio_seconds)
        candidates = self.prompts.all()
        detected: Classification | None = None
        tokens = TokenCount()
        if isinstance(self.transcriber, DetectingTranscriber):
            raw, detected, tokens = self.transcriber.transcribe_and_detect(audio, candidates)
        else:
            raw = self.transcriber.transcribe(audio)
        transcript = assign_speakers(raw, audio, self.agent_channel)
        audio_format = audio.extension
        del audio  # an hour of samples is 230 MB: not kept while the text is analysed
        if detected is None:
            detected = self.analyzer.classify(transcript, candidates)
            tokens = tokens + detected.tokens
        return TranscriptionResult(transcript=transcript, classification=detected,
                                   audio_format=audio_format, tokens=tokens)
