"""The transcription stage: decode, transcribe, and detect domain/category (the seed's stage 1)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from audiohub.domain import Classification, TokenCount, TranscriptionResult
from audiohub.extraction.base import Analyzer
from audiohub.prompts.base import PromptStore
from audiohub.transcription.audio import DEFAULT_MAX_SECONDS, decode_file
from audiohub.transcription.base import DetectingTranscriber, Transcriber
from audiohub.transcription.coverage import VadConfig, check_coverage
from audiohub.transcription.speakers import assign_speakers
from audiohub.transcription.vocabulary import Vocabulary


class TranscriptionService:
    def __init__(
        self, transcriber: Transcriber, analyzer: Analyzer, prompts: PromptStore,
        agent_channel: Literal["left", "right"] = "left",
        max_audio_seconds: float = DEFAULT_MAX_SECONDS,
        vocabulary: Vocabulary | None = None, coverage_min_gap_s: float = 1.5,
        coverage_vad: VadConfig | None = None,
    ) -> None:
        self.transcriber = transcriber
        self.analyzer = analyzer
        self.prompts = prompts
        # Which channel of a split stereo recording is the agent's (STEREO_AGENT_CHANNEL).
        self.agent_channel: Literal["left", "right"] = agent_channel
        # MAX_AUDIO_MINUTES: the decoded audio is held whole while it is transcribed.
        self.max_audio_seconds = max_audio_seconds
        # VOCABULARY_FILE's terms; a request's keyterms and the category's are added per call.
        self.vocabulary = vocabulary or Vocabulary()
        self.coverage_min_gap_s = coverage_min_gap_s
        self.coverage_vad = coverage_vad or VadConfig()

    def transcribe(self, audio_path: Path, keyterms: Sequence[str] = ()) -> TranscriptionResult:
        """Decode and transcribe a recording, tell its parties apart where the recording keeps them
        on separate stereo channels, then classify it among the stored pairs.

        Raises:
            InvalidInputError: the file is empty, not audio, truncated or corrupt
                (UnsupportedAudioError), or longer than MAX_AUDIO_MINUTES (AudioTooLongError).
        """
        audio = decode_file(audio_path, self.max_audio_seconds)
        candidates = self.prompts.all()
        hints = self.vocabulary.hints(keyterms)
        detected: Classification | None = None
        tokens = TokenCount()
        if isinstance(self.transcriber, DetectingTranscriber):
            raw, detected, tokens = self.transcriber.transcribe_and_detect(audio, candidates,
                                                                           hints)
        else:
            raw = self.transcriber.transcribe(audio, hints)
        raw = check_coverage(raw, audio, self.transcriber, hints, self.coverage_min_gap_s,
                             self.coverage_vad)
        transcript = assign_speakers(raw, audio, self.agent_channel)
        audio_format = audio.extension
        del audio  # an hour of samples is 230 MB: not kept while the text is analysed
        if detected is None:
            detected = self.analyzer.classify(transcript, candidates)
            tokens = tokens + detected.tokens
        # The category's own terms are known only now: they correct, they could not hint. All
        # the call's terms correct (the hint budget may have left some out); `correct` adds the
        # file's terms itself.
        spec = next((c for c in candidates if (c.domain, c.category)
                     == (detected.domain, detected.category)), None)
        transcript = self.vocabulary.correct(
            transcript, [*keyterms, *(spec.keyterms if spec else [])])
        return TranscriptionResult(transcript=transcript, classification=detected,
                                   audio_format=audio_format, tokens=tokens)
