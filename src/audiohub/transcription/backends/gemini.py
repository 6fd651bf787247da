"""Gemini transcription (TRANSCRIBER=gemini): the seed's stage 1, audio in and transcript +
domain + category out in one call per piece of audio.

The model hears the recording as 16-bit 16 kHz mono WAV and answers JSON segments (speaker,
start, end, text); the first piece also gets the candidate domain/category pairs and answers
which fits. Gemini gives no word timestamps, so each segment's words are spread over its time in
proportion to their length, and the transcript says so in its flags. Calls longer than
`chunk_seconds` are sent in pieces cut in pauses, so no answer outgrows Gemini's output limit.
"""

from __future__ import annotations

import re
import tempfile
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import jiter
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from audiohub.config import LLMSettings
from audiohub.domain import CategorySpec, Classification, Segment, TokenCount, Transcript, Word
from audiohub.llm.base import LLMReply, LLMRequest
from audiohub.llm.gemini import INLINE_LIMIT, GeminiClient
from audiohub.llm.structured import ask
from audiohub.transcription import guard
from audiohub.transcription.audio import SAMPLE_RATE, DecodedAudio
from audiohub.transcription.chunking import SEARCH_S, chunk_bounds

CHUNK_S = 600.0
# Output budget per piece: ~150 words a minute plus the JSON around each segment, doubled; capped
# at what every Gemini model can write (gemini-2.0-flash: 8192 tokens).
_TOKENS_PER_MINUTE = 700
_MAX_OUTPUT = 8192
INTERPOLATED = ("word times are interpolated from Gemini's segment times, and word "
                "probabilities set to 1.0: Gemini gives neither per word")
_STRICT = ConfigDict(extra="forbid")

SYSTEM = (
    "You transcribe customer-service phone calls. Write down every word spoken, verbatim, in the "
    "language spoken: do not translate, correct, summarise or invent anything. Split the speech "
    "into segments at every change of speaker and at pauses, each at most about 15 seconds, "
    "with start and end in seconds from the beginning of the recording. speaker is 'agent' for "
    "the company's representative, 'customer' for the caller, or another short label. A "
    "recording without speech has no segments.")


class GeminiSegment(BaseModel):
    model_config = _STRICT

    speaker: str = Field(max_length=40, description="agent, customer, or another short label")
    start: float = Field(ge=0, description="seconds from the start of the recording")
    end: float = Field(ge=0, description="seconds from the start of the recording")
    text: str = Field(max_length=3000, description="the words said, verbatim")


class TranscriptAnswer(BaseModel):
    model_config = _STRICT

    language: str = Field(max_length=12, description="ISO 639-1 code of the language, e.g. en")
    segments: list[GeminiSegment]


class DetectionAnswer(TranscriptAnswer):
    domain: str = Field(max_length=60, description="the domain of the best-fitting pair")
    category: str = Field(max_length=60, description="the category of the best-fitting pair")
    confidence: float = Field(ge=0, le=1, description="how well that pair fits the call")
    runner_up_confidence: float = Field(
        ge=0, le=1, description="how well the next-best candidate pair fits the call")


def _wav(samples: np.ndarray[Any, np.dtype[np.float32]], path: Path) -> None:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())


def interpolate_words(text: str, start: float, end: float, speaker: str | None) -> list[Word]:
    """The segment's words, each given a share of [start, end] proportional to its length."""
    tokens = text.split()
    total = sum(len(t) for t in tokens) or 1
    words, at = [], start
    for token in tokens:
        until = at + (end - start) * len(token) / total
        words.append(Word(word=f" {token}", start=round(at, 3), end=round(until, 3),
                          probability=1.0, speaker=speaker))
        at = until
    return words


def _name(value: Any) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(value).lower()).strip("_")


def _salvage_segments(replies: list[LLMReply]) -> list[GeminiSegment]:
    """The segments that are valid one by one in the best of the answers (cut off or not)."""
    best: list[GeminiSegment] = []
    for reply in replies:
        try:
            data = jiter.from_json(reply.text.strip().encode(), partial_mode="trailing-strings")
        except ValueError:
            continue
        items = data.get("segments") if isinstance(data, dict) else None
        kept = []
        for item in items if isinstance(items, list) else []:
            try:
                kept.append(GeminiSegment.model_validate(item))
            except ValidationError:
                continue
        best = max(best, kept, key=len)
    return best


class _Recording:
    """Passes calls to the client and keeps the replies, for salvaging segments."""

    provider: ClassVar[str] = "gemini"

    def __init__(self, client: GeminiClient) -> None:
        self.client, self.model, self.replies = client, client.model, list[LLMReply]()

    def complete(self, request: LLMRequest) -> LLMReply:
        reply = self.client.complete(request)
        self.replies.append(reply)
        return reply

    def health(self) -> str:
        return self.client.health()


class GeminiTranscriber:
    """Transcriber (and DetectingTranscriber) on Gemini; `inline_limit` is the request size
    above which the audio goes through the Files API (GeminiClient's argument)."""

    name: ClassVar[str] = "gemini"

    def __init__(self, settings: LLMSettings, *, inline_limit: int = INLINE_LIMIT,
                 chunk_seconds: float = CHUNK_S, backoff_seconds: float = 1.0,
                 poll_seconds: float = 1.0) -> None:
        self._settings = settings
        self._chunk_s = chunk_seconds
        self.client = GeminiClient(
            settings, inline_limit=inline_limit, backoff_seconds=backoff_seconds,
            poll_seconds=poll_seconds, missing_key_hint="choose TRANSCRIBER=whisper")

    def transcribe(self, audio: DecodedAudio, keyterms: Sequence[str] = (), *,
                   deterministic: bool = False) -> Transcript:
        # `deterministic` is for the coverage check's re-decode, which never runs on Gemini's
        # transcripts (they carry no word probabilities to find a skipped stretch with).
        return self.transcribe_and_detect(audio, [], keyterms)[0]

    def transcribe_and_detect(
        self, audio: DecodedAudio, candidates: Sequence[CategorySpec],
        keyterms: Sequence[str] = (),
    ) -> tuple[Transcript, Classification | None, TokenCount]:
        segments: list[Segment] = []
        flags: list[str] = []
        tokens = TokenCount()
        language: str | None = None
        detected: Classification | None = None
        # Search for a quiet cut within a quarter piece, so short test pieces stay short too.
        for n, (lo, hi) in enumerate(chunk_bounds(
                audio.samples, self._chunk_s, min(SEARCH_S, self._chunk_s / 4))):
            offset = lo / SAMPLE_RATE
            answer, piece_tokens, problem = self._piece(
                audio.samples[lo:hi], candidates if n == 0 else [], keyterms)
            tokens = tokens + piece_tokens
            if problem:
                flags.append(f"Gemini's answer for {offset:.0f}-{hi / SAMPLE_RATE:.0f} s was "
                             f"not valid ({problem}); kept the segments that were")
            length = (hi - lo) / SAMPLE_RATE
            for seg in sorted(answer.get("segments", []), key=lambda s: s.start):
                start = min(seg.start, length) + offset
                end = max(min(seg.end, length) + offset, start)
                speaker = _name(seg.speaker) or None
                segments.append(Segment(
                    id=len(segments), start=round(start, 3), end=round(end, 3),
                    text=seg.text.strip(), speaker=speaker,
                    words=interpolate_words(seg.text, start, end, speaker)))
            language = language or answer.get("language")
            # A name with nothing left after cleaning is no detection: the analyzer decides.
            if n == 0 and _name(answer.get("domain", "")) and _name(answer.get("category", "")):
                score = float(answer.get("confidence", 0.0))
                detected = Classification(
                    domain=_name(answer["domain"]), category=_name(answer["category"]),
                    score=score, margin=max(0.0, score - answer.get("runner_up_confidence", 1.0)))
        kept, guard_flags = guard.clean([s for s in segments if s.text])
        transcript = Transcript.from_segments(
            kept, language=_name(language or "en").split("_")[0][:8] or "en",
            duration=audio.duration, flags=flags + guard_flags).model_copy(
            update={"notes": [INTERPOLATED], "word_probabilities": False})
        if not transcript.text:
            detected = None  # a domain for silence is a guess: let the analyzer say general
        return transcript, detected, tokens

    def _piece(
        self, samples: np.ndarray[Any, np.dtype[np.float32]],
        candidates: Sequence[CategorySpec], keyterms: Sequence[str] = (),
    ) -> tuple[dict[str, Any], TokenCount, str | None]:
        """One call: the answer's valid fields by name, the tokens, and what was wrong."""
        seconds = len(samples) / SAMPLE_RATE
        model: type[TranscriptAnswer] = DetectionAnswer if candidates else TranscriptAnswer
        user = f"Transcribe the attached recording ({seconds:.1f} s)."
        if keyterms:
            # The names a company knows it will hear: spelled as given when they are said, and
            # never written in when they are not (SYSTEM forbids inventing).
            user += (" These terms may be said in the call; when one is, write it spelled "
                     f"exactly so: {'; '.join(keyterms)}.")
        if candidates:
            pairs = "\n".join(f"- {c.domain}/{c.category}: {c.description}" for c in candidates)
            user += (
                " Then choose the domain/category pair below that fits the call best; if none "
                "fits, answer a new snake_case domain and category that do. confidence: how "
                "well your pair fits (0-1); runner_up_confidence: how well the next best "
                f"pair fits.\nCandidates:\n{pairs}")
        budget = int(seconds / 60 * _TOKENS_PER_MINUTE) + 512
        max_tokens = min(_MAX_OUTPUT, max(self._settings.max_tokens, budget))
        recording = _Recording(self.client)
        with tempfile.TemporaryDirectory(prefix="audiohub-gemini-") as tmp:
            path = Path(tmp) / "call.wav"
            _wav(samples, path)
            result = ask(recording, LLMRequest(
                system=SYSTEM, user=user, schema=model.model_json_schema(),
                schema_name=model.__name__, max_tokens=max_tokens, audio=path,
                mime_type="audio/wav"), model)
        if result.value is not None:
            return dict(result.value), result.usage, None
        partial = dict(result.partial)
        partial["segments"] = _salvage_segments(recording.replies)
        return partial, result.usage, result.problems[-1]

    def load(self) -> None:
        """Nothing to load: the model runs at Google (or GEMINI_BASE_URL)."""

    def health(self) -> str:
        return f"gemini transcription: {self.client.health()}"
