"""The offline analyzer (ANALYZER=local): no LLM, no network, no invented categories."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar

from audiohub.config import AnalyzerSettings
from audiohub.domain import CategorySpec, Classification, Extraction, Transcript

if TYPE_CHECKING:
    from spacy.language import Language
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from audiohub.extraction.backends.local.classifier import EmbeddingClassifier
    from audiohub.extraction.backends.local.embedder import MiniLMEmbedder


@dataclass(frozen=True)
class _Models:
    classifier: EmbeddingClassifier
    nlp: Language
    vader: SentimentIntensityAnalyzer


@lru_cache(maxsize=1)
def _embedder() -> MiniLMEmbedder:
    """One MiniLM per process, shared by every analyzer built in it."""
    from audiohub.extraction.backends.local.embedder import MiniLMEmbedder

    return MiniLMEmbedder.from_package()


class LocalAnalyzer:
    """MiniLM similarity for domain/category, spaCy + typed patterns for fields, VADER and rules
    for the general metrics.

    spaCy and the models are imported and loaded in `load()`, not at import time: the CLI calls
    it on a background thread so that loading overlaps Whisper's transcription of the first file.
    """

    name: ClassVar[str] = "local"
    # spaCy's English pipeline, English cue words and an English sentence encoder.
    languages: ClassVar[frozenset[str] | None] = frozenset({"en"})

    def __init__(self, settings: AnalyzerSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._models: _Models | None = None

    def load(self) -> None:
        self._loaded()

    def _loaded(self) -> _Models:
        with self._lock:  # a caller that arrives mid-load waits for the loading thread
            if self._models is None:
                from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

                from audiohub.extraction.backends.local.classifier import EmbeddingClassifier
                from audiohub.extraction.backends.local.nlp import load_spacy

                threshold = self.settings.classify_threshold
                self._models = _Models(EmbeddingClassifier(_embedder(), threshold), load_spacy(),
                                       SentimentIntensityAnalyzer())
            return self._models

    def classify(
        self, transcript: Transcript, candidates: Sequence[CategorySpec]
    ) -> Classification:
        return self._loaded().classifier.classify(transcript, candidates)

    def extract(
        self, transcript: Transcript, classification: Classification, spec: CategorySpec
    ) -> Extraction:
        from audiohub.extraction.backends.local.engine import FieldExtractor
        from audiohub.extraction.backends.local.metrics import build_metrics

        m = self._loaded()
        data, evidence = FieldExtractor(m.nlp).extract(transcript, spec)
        metrics = build_metrics(transcript, classification, m.nlp, m.vader, spec)
        return Extraction(domain_specific_data=data, evidence=evidence, general_metrics=metrics)

    def health(self) -> str:
        state = "loaded" if self._models is not None else "not loaded yet"
        return f"local analyzer: MiniLM + spaCy + VADER ({state})"
