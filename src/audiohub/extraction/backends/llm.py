"""The LLM analyzer (ANALYZER=openai|gemini): the seed's stage-1 detection and its one combined
stage-2 call, on any provider of `audiohub.llm.base`.

Answers are validated against models built from the category's schema (re-asked once, else
kept as far as valid and marked partial); long transcripts are analysed in chunks whose fields
are merged; timing metrics come from the word timestamps, not from the model; the extraction
service then grounds every value in the transcript.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal

from audiohub.config import LLMSettings
from audiohub.domain import (
    CategorySpec,
    Classification,
    Extraction,
    GeneralMetrics,
    Sentiment,
    TokenCount,
    Transcript,
)
from audiohub.extraction.timing import longest_silence, speaker_timing, timing
from audiohub.llm import prompts
from audiohub.llm.base import LLMClient, LLMRequest
from audiohub.llm.chunks import chunk
from audiohub.llm.redact import NameFinder, Redacted, redact
from audiohub.llm.schemas import (
    ClassificationAnswer,
    GeneralAnalysis,
    GeneratedSpec,
    combined_model,
)
from audiohub.llm.structured import Structured, ask
from audiohub.prompts.library import FALLBACK_CATEGORY, FALLBACK_DOMAIN

Label = Literal["positive", "neutral", "negative"]


class LLMAnalyzer:
    name: ClassVar[str] = "llm"
    # The model reads any language; the prompt says which one the call is in.
    languages: ClassVar[frozenset[str] | None] = None

    def __init__(self, client: LLMClient, settings: LLMSettings) -> None:
        self.client = client
        self.settings = settings
        self._names: NameFinder | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        if self.settings.redact_pii:
            self._name_finder()

    def health(self) -> str:
        return f"{self.client.provider} {self.client.model}: {self.client.health()}"

    def _name_finder(self) -> NameFinder:
        """spaCy's person names, for redaction (loaded once, only when redaction is on)."""
        with self._lock:
            if self._names is None:
                from audiohub.extraction.backends.local.nlp import load_spacy

                nlp = load_spacy()
                self._names = lambda text: [(e.start_char, e.end_char) for e in nlp(text).ents
                                            if e.label_ == "PERSON"]
            return self._names

    def _outgoing(self, text: str) -> Redacted:
        return redact(text, self._name_finder()) if self.settings.redact_pii else Redacted(text)

    def classify(
        self, transcript: Transcript, candidates: Sequence[CategorySpec]
    ) -> Classification:
        if not transcript.text.strip():
            return Classification(domain=FALLBACK_DOMAIN, category=FALLBACK_CATEGORY)
        # The opening of a call says why it was made: the first chunk is enough to classify.
        text = self._outgoing(chunk(transcript.text, self.settings.chunk_chars)[0]).text
        answer = ask(self.client, LLMRequest(
            system=prompts.CLASSIFY_SYSTEM,
            user=prompts.classify_user(text, candidates, transcript.language),
            schema=ClassificationAnswer.model_json_schema(), schema_name="classification",
            max_tokens=min(self.settings.max_tokens, 128)), ClassificationAnswer)
        if answer.value is None:
            return Classification(domain=FALLBACK_DOMAIN, category=FALLBACK_CATEGORY,
                                  tokens=answer.usage)
        v = answer.value
        # One confidence from the model: it is both the score and the margin the review uses.
        return Classification(domain=v.domain, category=v.category, score=v.confidence,
                              margin=v.confidence, tokens=answer.usage)

    def extract(
        self, transcript: Transcript, classification: Classification, spec: CategorySpec
    ) -> Extraction:
        pieces = chunk(transcript.text, self.settings.chunk_chars) if transcript.text else []
        model = combined_model(spec)
        fields: dict[str, str | None] = {f.name: None for f in spec.fields}
        generals: list[tuple[dict[str, Any], int]] = []
        usage = TokenCount()
        problems: list[str] = []
        for n, piece in enumerate(pieces, 1):
            sent = self._outgoing(piece)
            part = (n, len(pieces)) if len(pieces) > 1 else None
            answer = ask(self.client, LLMRequest(
                system=prompts.EXTRACT_SYSTEM,
                user=prompts.extract_user(spec, sent.text, part, transcript.language),
                schema=model.model_json_schema(), schema_name="call_analysis",
                max_tokens=self.settings.max_tokens), model)
            usage = usage + answer.usage
            got = answer.value.model_dump() if answer.value else answer.partial
            if answer.value is None:
                where = f" (part {n} of {len(pieces)})" if part else ""
                problems += [f"{p}{where}" for p in answer.problems]
            for name, value in (got.get("fields") or {}).items():
                # The first part that says a value wins: merging never overwrites.
                if name in fields and fields[name] is None and value:
                    fields[name] = sent.restore(str(value))
            if got.get("general"):
                generals.append((_restored(got["general"], sent.restore), len(piece)))
        metrics = _general_metrics(transcript, generals)
        missing = set(GeneralAnalysis.model_fields) - {k for g, _ in generals for k in g}
        if pieces and missing:
            problems.append(f"general analysis lacks {', '.join(sorted(missing))}")
        metrics = metrics.model_copy(update={"partial": bool(problems),
                                             "partial_reasons": problems})
        return Extraction(domain_specific_data=fields, general_metrics=metrics, tokens=usage)

    def generate_spec(self, domain: str, category: str) -> Structured[GeneratedSpec]:
        """A description, prompt and field list for a pair the library lacks: `value` is None
        and `problems` says why if the model gave no valid one, even re-asked (the caller then
        keeps the general fallback).

        Raises:
            LLMUnavailableError: the provider did not answer (timeout, refused, 429, 5xx).
        """
        return ask(self.client, LLMRequest(
            system=prompts.GENERATE_SYSTEM, user=prompts.generate_user(domain, category),
            schema=GeneratedSpec.model_json_schema(), schema_name="category_spec",
            max_tokens=self.settings.max_tokens), GeneratedSpec)


def _restored(general: dict[str, Any], restore: Callable[[str], str]) -> dict[str, Any]:
    def fix(v: Any) -> Any:
        if isinstance(v, str):
            return restore(v)
        return [fix(x) for x in v] if isinstance(v, list) else v
    return {k: fix(v) for k, v in general.items()}


def _general_metrics(transcript: Transcript, parts: list[tuple[dict[str, Any], int]]
                     ) -> GeneralMetrics:
    """Merge the parts' general answers (sentiment weighted by their length) with the timing
    metrics.

    What no part answered validly takes a neutral default, and the caller marks it partial.
    """
    scores = [(g["sentiment_score"], n) for g, n in parts if "sentiment_score" in g]
    score = round(sum(s * n for s, n in scores) / sum(n for _, n in scores), 4) if scores else 0.0
    labels = {g["sentiment_label"] for g, _ in parts if "sentiment_label" in g}
    label: Label = labels.pop() if len(labels) == 1 else (
        "positive" if score >= 0.05 else "negative" if score <= -0.05 else "neutral")
    outcomes = [g["call_outcome"] for g, _ in parts if "call_outcome" in g]

    def union(key: str, limit: int) -> list[str]:
        seen: dict[str, None] = {}
        for g, _ in parts:
            for item in g.get(key, []):
                seen.setdefault(item, None)
        return list(seen)[:limit]

    talk, silence, wpm = timing(transcript)
    speakers, interruptions = speaker_timing(transcript)
    return GeneralMetrics(
        summary=" ".join(g["summary"] for g, _ in parts if g.get("summary"))[:600],
        sentiment=Sentiment(label=label, score=score),
        # The end of the call decides how it ended.
        call_outcome=outcomes[-1] if outcomes else "unresolved",
        key_topics=union("key_topics", 8), action_items=union("action_items", 8),
        pii_detected=union("pii_detected", 10),
        duration_seconds=transcript.duration, language=transcript.language,
        talk_time_seconds=talk, silence_ratio=silence, words_per_minute=wpm,
        longest_silence_seconds=longest_silence(transcript), speakers=speakers,
        interruptions=interruptions,
    )
