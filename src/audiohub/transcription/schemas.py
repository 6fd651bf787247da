"""The transcription service's wire format: the seed's request and response, plus word timings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from audiohub.domain import (
    Classification,
    Correction,
    Segment,
    TokenCount,
    Transcript,
    TranscriptionResult,
)
from audiohub.errors import InvalidInputError
from audiohub.transcription.vocabulary import MAX_REQUEST_KEYTERMS, MAX_TERM_CHARS, parse_keyterms

# One set of rules for a call's keyterms wherever they come from (transcription/vocabulary.py).
MAX_KEYTERMS = MAX_REQUEST_KEYTERMS
MAX_KEYTERM_CHARS = MAX_TERM_CHARS


def clean_keyterms(values: Iterable[str], *, split: bool = False) -> list[str]:
    """A request's keyterms as the stages use them (`vocabulary.parse_keyterms`: trimmed, blanks
    and repeats dropped); with `split`, each value is also split at commas (a form field or query
    parameter may carry several).

    Raises:
        ValueError: what `parse_keyterms` refuses, in its words (pydantic and the routes turn it
            into a 422 naming the term).
    """
    pieces = [piece for value in values for piece in (value.split(",") if split else (value,))]
    try:
        return parse_keyterms(pieces)
    except InvalidInputError as exc:
        raise ValueError(exc.detail) from None


def _split_keyterms(values: list[str]) -> list[str]:
    return clean_keyterms(values, split=True)


# Keyterms in a JSON body: a list of terms, each one term.
Keyterms = Annotated[list[str], AfterValidator(clean_keyterms)]
# Keyterms in a form field or query parameter: repeatable, and each value may list several
# terms separated by commas ("Metro Bank,John Carter").
KeytermText = Annotated[list[str], AfterValidator(_split_keyterms)]
KEYTERMS_DOC = (f"Words to expect in the call (names, products, branches): a decoding hint and "
                f"a correction list. Repeat the parameter, or separate terms with commas; at "
                f"most {MAX_KEYTERMS} terms of up to {MAX_KEYTERM_CHARS} characters.")


class HexAudio(BaseModel):
    """The seed's JSON body: the file's bytes hex-encoded. Accepted for compatibility; raw bytes
    (application/octet-stream or multipart) are half the size and are not parsed twice."""

    file_bytes: str = Field(description="The audio file's bytes as a hex string.")
    mime_type: str | None = Field(default=None, description="e.g. audio/mpeg (informational).")
    filename: str | None = None
    keyterms: Keyterms = Field(default_factory=list, description=(
        f"Words to expect in the call; at most {MAX_KEYTERMS} of up to {MAX_KEYTERM_CHARS} "
        "characters."))


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
    speech_coverage: float | None = None
    corrections: list[Correction] = []
    classification: Classification
    audio_format: str

    @classmethod
    def of(cls, r: TranscriptionResult) -> TranscribeResponse:
        t = r.transcript
        return cls(
            transcription=t.text, domain=r.classification.domain,
            category=r.classification.category, tokens=r.tokens, language=t.language,
            duration=t.duration, segments=t.segments, flags=t.flags, notes=t.notes,
            word_probabilities=t.word_probabilities, speech_coverage=t.speech_coverage,
            corrections=t.corrections, classification=r.classification,
            audio_format=r.audio_format,
        )

    def result(self) -> TranscriptionResult:
        transcript = Transcript(text=self.transcription, language=self.language,
                                duration=self.duration, segments=self.segments, flags=self.flags,
                                notes=self.notes, word_probabilities=self.word_probabilities,
                                speech_coverage=self.speech_coverage,
                                corrections=self.corrections)
        return TranscriptionResult(transcript=transcript, classification=self.classification,
                                   audio_format=self.audio_format, tokens=self.tokens)
