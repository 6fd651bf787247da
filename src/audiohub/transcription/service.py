"""The transcription stage: decode, transcribe, and detect domain/category (the seed's stage 1)."""

from __future__ import annotations

from pathlib import Path

from audiohub.domain import TranscriptionResult
from audiohub.extraction.base import Analyzer
from audiohub.prompts.base import PromptStore
from audiohub.transcription.audio import decode_file
from audiohub.transcription.base import Transcriber


class TranscriptionService:
    def __init__(self, transcriber: Transcriber, analyzer: Analyzer, prompts: PromptStore) -> None:
        self.transcriber = transcriber
        self.analyzer = analyzer
        self.prompts = prompts

    def transcribe(self, audio_path: Path) -> TranscriptionResult:
        """Decode and transcribe a recording, then classify it among the stored pairs.

        Raises:
            InvalidInputError: the file is empty, not audio, truncated or corrupt.
        """
        audio = decode_file(audio_path)
        transcript = self.transcriber.transcribe(audio)
        classification = self.analyzer.classify(transcript, self.prompts.all())
        return TranscriptionResult(transcript=transcript, classification=classification,
                                   audio_format=audio.extension)
