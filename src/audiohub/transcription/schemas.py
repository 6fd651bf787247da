"""The transcription service's wire format: the seed's request and response, plus word timings."""

from __future__ import annotations

from pydantic import BaseModel, Field

from audiohub.domain import Classification, Segment, TokenCount, Transcript, TranscriptionResult


class HexAudio(BaseModel):
    """The seed's JSON body: the file's bytes hex-encoded. Accepted for compatibility; raw bytes
    (application/octet-stream or multipart) are half the size and are not parsed twice."""

    file_bytes: str = Field(description="The audio file's bytes as a hex string.")
    mime_type: str | None = Field(default=None, description="e.g. audio/mpeg (informational).")
    filename: str | None = None


class TranscribeResponse(BaseModel):
    """The seed's stage-1 answer (`transcription`, `domain`, `category`, `tokens`) plus what the
    later stages need to ground values in audio time: segments with words, and confidence."""

    transcription: str
    domain: str
    category: str
    tokens: TokenCount
    language: str
    duration: float
    segments: list[Segment]
    flags: list[str]
    notes: list[str] = []
    word_probabilities: bool = True
    classification: Classification
    audio_format: str

    @classmethod
    def of(cls, r: TranscriptionResult) -> TranscribeResponse:
        t = r.transcript
        return cls(
            transcription=t.text, domain=r.classification.domain,
            category=r.classification.category, tokens=r.tokens, language=t.language,
            duration=t.duration, segments=t.segments, flags=t.flags, notes=t.notes,
            word_probabilities=t.word_probabilities, classification=r.classification,
            audio_format=r.audio_format,
        )

    def result(self) -> TranscriptionResult:
        transcript = Transcript(text=self.transcription, language=self.language,
                                duration=self.duration, segments=self.segments, flags=self.flags,
                                notes=self.notes, word_probabilities=self.word_probabilities)
        return TranscriptionResult(transcript=transcript, classification=self.classification,
                                   audio_format=self.audio_format, tokens=self.tokens)
