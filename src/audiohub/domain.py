"""Data shapes shared by every stage.

They are pydantic models so the same object crosses a function call in one process and an HTTP hop
between services without a second definition.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from audiohub.fieldspec import FieldSpec as FieldSpec  # re-exported: every stage imports it here

# The largest id or offset the API looks up: beyond any stored row, and within what every
# database's integer takes (a larger one would be an error inside the query, not a 404).
MAX_ID = 2**31 - 1


def clean_text(value: str) -> str:
    """The value, if a database can store it; else a ValueError (a 422 in a request)."""
    # PostgreSQL refuses NUL in text, and no database driver can encode a lone surrogate (JSON's
    # "\ud800" parses to one): either would fail inside the query as a 500, not as a 422.
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


# A string a client sends that is stored or looked up in the database. Constraints of its own
# (min_length after stripping) go beside clean_text in one Annotated, not around CleanStr.
CleanStr = Annotated[str, AfterValidator(clean_text)]


def _assume_utc(value: Any) -> Any:
    # SQLite keeps no time zone, and the hub writes every time in UTC: a time read back without
    # one is UTC. An answer's times always carry their zone (RFC 3339, as OpenAPI's date-time).
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


# A time in an answer: always with its time zone.
UtcDatetime = Annotated[AwareDatetime, BeforeValidator(_assume_utc)]


class Word(BaseModel):
    """One recognised word with its audio time."""

    word: str
    start: float
    end: float
    probability: float
    # Who said it, when the recording lets us tell (see transcription/speakers.py).
    speaker: str | None = None


class Segment(BaseModel):
    """A stretch of speech as the recogniser returned it."""

    id: int
    start: float
    end: float
    text: str
    words: list[Word] = Field(default_factory=list)
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0
    # gzip ratio of the text: Whisper's own sign of a looping, unreliable decode (> 2.4).
    compression_ratio: float = 0.0
    speaker: str | None = None


class Correction(BaseModel):
    """One transcript span replaced by a custom-vocabulary term (see transcription/vocabulary.py).

    `char_start`/`char_end` slice the corrected `Transcript.text`; `start`/`end` are the audio
    seconds of the words replaced. In JSON the heard text is `from`.
    """

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    heard: str = Field(alias="from")
    to: str
    char_start: int
    char_end: int
    start: float
    end: float


class Transcript(BaseModel):
    """The whole transcript. `text` is the segment texts joined by single spaces, so
    character offsets into it are stable whoever rebuilds it from the segments."""

    text: str
    language: str
    duration: float
    segments: list[Segment] = Field(default_factory=list)
    # Text that was removed or lost (the hallucination guard, a cut-off model answer), in words
    # a reviewer can check against the audio.
    flags: list[str] = Field(default_factory=list)
    # Facts about how the transcript was made that do not call for a review.
    notes: list[str] = Field(default_factory=list)
    # False when the recogniser gives no per-word confidence (Gemini): then no mean is taken.
    word_probabilities: bool = True
    # Share of the VAD's speech time covered by recognised words (None: no word times or no VAD).
    speech_coverage: float | None = None
    # Spans replaced by custom-vocabulary terms (VOCABULARY_FILE, keyterms, category terms).
    corrections: list[Correction] = Field(default_factory=list)

    @classmethod
    def from_segments(
        cls, segments: list[Segment], language: str, duration: float,
        flags: list[str] | None = None,
    ) -> Transcript:
        text = " ".join(s.text.strip() for s in segments if s.text.strip())
        return cls(text=text, language=language, duration=duration, segments=segments,
                   flags=flags or [])

    def timed_words(self) -> list[TimedWord]:
        """Each word with its character span in `text` and its audio time.

        Whisper words carry their own leading space and punctuation; we look each one up in the
        text from where the previous one ended, so the spans always slice `text` exactly.
        """
        out: list[TimedWord] = []
        cursor = 0
        for seg in self.segments:
            for w in seg.words:
                token = w.word.strip()
                if not token:
                    continue
                at = self.text.find(token, cursor)
                if at < 0:
                    continue
                out.append(TimedWord(text=token, char_start=at, char_end=at + len(token),
                                     start=w.start, end=w.end, probability=w.probability))
                cursor = at + len(token)
        return out


class TimedWord(BaseModel):
    """A word located both in the transcript text and in the audio."""

    text: str
    char_start: int
    char_end: int
    start: float
    end: float
    probability: float


class Evidence(BaseModel):
    """Where a value was said: `transcription[char_start:char_end] == text`.

    A value that could not be found in the transcript keeps `grounded: false` and no offsets,
    so it is never presented as something the call said.
    """

    text: str
    char_start: int | None
    char_end: int | None
    start_s: float | None
    end_s: float | None
    grounded: bool = True


class CategorySpec(BaseModel):
    """A domain/category of the prompt library, with the prompt and fields to extract."""

    domain: str
    category: str
    description: str
    prompt: str
    fields: list[FieldSpec]
    # Typical things callers say in such a call; the local classifier compares sentences to them.
    examples: list[str] = Field(default_factory=list)
    # Words such calls use that a recogniser may mishear (drug names for a pharmacy): the
    # vocabulary correction pass uses them once the call is classified.
    keyterms: list[str] = Field(default_factory=list)
    version: int = 1
    # "generated" versions were written by an LLM and await a person's review; "approved" is
    # that review's verdict on one, "edited" a person's own version.
    source: Literal["library", "generated", "edited", "approved"] = "library"

    def json_schema(self) -> dict[str, Any]:
        """The JSON schema of this category's `domain_specific_data`."""
        return {
            "type": "object",
            "properties": {
                f.name: {"type": ["string", "null"], "description": f.description, "maxLength": 500}
                for f in self.fields
            },
            "required": [f.name for f in self.fields],
            "additionalProperties": False,
        }


class TokenCount(BaseModel):
    """Tokens an LLM stage used (zeros for local backends)."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0

    def __add__(self, other: TokenCount) -> TokenCount:
        return TokenCount(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
        )


class Classification(BaseModel):
    """The chosen domain/category and how sure we are of it."""

    domain: str
    category: str
    score: float = 0.0
    margin: float = 0.0
    # What an LLM spent deciding (zeros for the local classifier).
    tokens: TokenCount = Field(default_factory=TokenCount)


class TokenUsage(BaseModel):
    """The seed's `token_usage` block."""

    stage1_transcription_and_detection: TokenCount = Field(default_factory=TokenCount)
    stage2_combined_analysis: TokenCount = Field(default_factory=TokenCount)
    total: TokenCount = Field(default_factory=TokenCount)

    @classmethod
    def of(cls, stage1: TokenCount, stage2: TokenCount) -> TokenUsage:
        return cls(stage1_transcription_and_detection=stage1, stage2_combined_analysis=stage2,
                   total=stage1 + stage2)


class SentimentScore(BaseModel):
    """A VADER-style compound score in [-1, 1] and its label."""

    label: Literal["positive", "neutral", "negative"]
    score: float


class SegmentSentiment(SentimentScore):
    start: float
    end: float


class Sentiment(SentimentScore):
    segments: list[SegmentSentiment] = Field(default_factory=list)
    # Per speaker, only when speakers are told apart.
    speakers: dict[str, SentimentScore] = Field(default_factory=dict)


class SpeakerTiming(BaseModel):
    """How much one speaker talked."""

    talk_time_seconds: float
    talk_ratio: float
    words: int


class GeneralMetrics(BaseModel):
    """The seed's `general_metrics`, with the fields ../taxonomy.md requires."""

    summary: str
    sentiment: Sentiment
    call_outcome: Literal["resolved", "unresolved", "follow_up_required", "transferred"]
    key_topics: list[str]
    action_items: list[str]
    pii_detected: list[str]
    duration_seconds: float
    language: str
    talk_time_seconds: float | None = None
    silence_ratio: float | None = None
    words_per_minute: float | None = None
    longest_silence_seconds: float | None = None
    # Only when speakers are told apart (stereo recordings with one party per channel).
    speakers: dict[str, SpeakerTiming] | None = None
    interruptions: int | None = None
    classification_score: float | None = None
    classification_margin: float | None = None
    mean_word_probability: float | None = None
    # Transcript.speech_coverage and Transcript.corrections, kept with the call's metrics.
    speech_coverage: float | None = None
    corrections: list[Correction] = Field(default_factory=list)
    # Share of the speech time in segments Whisper's own signals mark unreliable (see
    # extraction/confidence.py); None when the recogniser gives no such signals.
    unreliable_speech_share: float | None = None
    needs_review: bool = False
    review_reasons: list[str] = Field(default_factory=list)
    transcript_flags: list[str] = Field(default_factory=list)
    # An LLM answer that stayed invalid after one re-ask: what was valid is kept, and why the
    # rest is missing is said here.
    partial: bool = False
    partial_reasons: list[str] = Field(default_factory=list)


class Extraction(BaseModel):
    """What the extraction stage returns for one call."""

    domain_specific_data: dict[str, str | None]
    evidence: dict[str, Evidence] = Field(default_factory=dict)
    general_metrics: GeneralMetrics
    tokens: TokenCount = Field(default_factory=TokenCount)


class TranscriptionResult(BaseModel):
    """What the transcription stage returns: the seed's stage 1 (text + domain + category)."""

    transcript: Transcript
    classification: Classification
    audio_format: str
    tokens: TokenCount = Field(default_factory=TokenCount)


class CallRecord(BaseModel):
    """Everything stored about one analysed call."""

    filename: CleanStr
    audio_sha256: CleanStr
    audio_format: CleanStr
    transcript: Transcript
    classification: Classification
    extraction: Extraction
    token_usage: TokenUsage
    prompt_version: int
    # The job that analysed it, and the backends that did (see Pipeline.signature).
    job_id: CleanStr | None = None
    pipeline: CleanStr | None = None
    # The user or key that submitted it (see audiohub.access).
    submitted_by: CleanStr | None = None


class DatabaseStatus(BaseModel):
    success: bool
    call_id: int | None


class CallResult(BaseModel):
    """The seed's output JSON, plus `evidence` beside `domain_specific_data`."""

    filename: str
    transcription: str
    domain: str
    category: str
    domain_specific_data: dict[str, str | None]
    evidence: dict[str, Evidence]
    general_metrics: GeneralMetrics
    database: DatabaseStatus
    token_usage: TokenUsage
    segments: list[Segment] = Field(default_factory=list)
    # Who submitted it, and whether AUDIO_RETENTION_DAYS removed its recording: for the access
    # check and the call page, not part of the seed's JSON.
    submitted_by: str | None = None
    audio_removed: bool = False

    def output(self, segments: bool = False) -> dict[str, Any]:
        """The JSON the API returns: the seed's keys plus `evidence`, `segments` if asked for."""
        hidden = {"submitted_by", "audio_removed"} | (set() if segments else {"segments"})
        return self.model_dump(mode="json", exclude=hidden)


class CallSummary(BaseModel):
    """One row of the calls list."""

    call_id: int
    created_at: UtcDatetime
    filename: str
    duration_seconds: float
    domain: str
    category: str
    sentiment: float
    needs_review: bool
    # The general metric `call_outcome`; None only for calls stored before it had a column.
    outcome: str | None = None


# The columns the calls list can be sorted by (CallSummary's names).
SortColumn = Literal["created_at", "filename", "duration_seconds", "domain", "category",
                     "sentiment", "outcome", "needs_review"]


class CallFilter(BaseModel):
    """Which stored calls to list and in what order (newest first by default).

    `since` and `until` are UTC days, both included; `q` searches the transcripts' words. Rows
    that tie on `sort` are ordered by id, so pages never overlap or skip a call.
    """

    needs_review: bool | None = None
    domain: CleanStr | None = None
    category: CleanStr | None = None
    since: date | None = None
    until: date | None = None
    # Plain str: the search keeps only its words, so no NUL reaches a query (test_listing).
    q: str | None = Field(default=None, max_length=200)
    # Only the calls this user or key submitted (forced for a role that reads only its own).
    submitted_by: CleanStr | None = Field(default=None, max_length=200)
    sort: SortColumn = "created_at"
    order: Literal["asc", "desc"] = "desc"
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=MAX_ID)

    @model_validator(mode="after")
    def _days_in_order(self) -> Self:
        if self.since is not None and self.until is not None and self.since > self.until:
            raise ValueError(f"since ({self.since}) must be on or before until ({self.until})")
        return self


class CallPage(BaseModel):
    total: int
    items: list[CallSummary]


class Stats(BaseModel):
    """Aggregates over stored calls."""

    total_calls: int
    by_domain: dict[str, int]
    by_category: dict[str, int]
    average_duration_seconds: float | None
    average_sentiment: float | None
    # "YYYY-MM-DD" (UTC day of created_at) -> calls that day, oldest day first; days without
    # calls are absent.
    calls_per_day: dict[str, int]
    average_sentiment_by_domain: dict[str, float]
    average_duration_by_domain: dict[str, float]
    needs_review_count: int
    # needs_review_count / total_calls; None when nothing is stored.
    needs_review_rate: float | None
