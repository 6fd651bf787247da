"""The offline analyzer (ANALYZER=local): no LLM, no network, no invented categories."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import ClassVar

from spacy.language import Language
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from audiohub.config import AnalyzerSettings
from audiohub.domain import CategorySpec, Classification, Extraction, Transcript
from audiohub.extraction.backends.local.classifier import EmbeddingClassifier
from audiohub.extraction.backends.local.embedder import MiniLMEmbedder
from audiohub.extraction.backends.local.fields import FieldExtractor
from audiohub.extraction.backends.local.metrics import build_metrics
from audiohub.extraction.backends.local.nlp import load_spacy


@lru_cache(maxsize=1)
def _embedder() -> MiniLMEmbedder:
    """One MiniLM per process, shared by every analyzer built in it."""
    return MiniLMEmbedder.from_package()


class LocalAnalyzer:
    """MiniLM similarity for domain/category, spaCy + typed patterns for fields, VADER and rules
    for the general metrics."""

    name: ClassVar[str] = "local"

    def __init__(self, settings: AnalyzerSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._classifier: EmbeddingClassifier | None = None
        self._nlp: Language | None = None
        self._vader: SentimentIntensityAnalyzer | None = None

    def load(self) -> None:
        with self._lock:
            if self._classifier is None:
                threshold = self.settings.classify_threshold
                self._classifier = EmbeddingClassifier(_embedder(), threshold)
                self._nlp = load_spacy()
                self._vader = SentimentIntensityAnalyzer()

    def _parts(self) -> tuple[EmbeddingClassifier, Language, SentimentIntensityAnalyzer]:
        self.load()
        assert self._classifier is not None and self._nlp is not None and self._vader is not None
        return self._classifier, self._nlp, self._vader

    def classify(
        self, transcript: Transcript, candidates: Sequence[CategorySpec]
    ) -> Classification:
        classifier, _, _ = self._parts()
        return classifier.classify(transcript, candidates)

    def extract(
        self, transcript: Transcript, classification: Classification, spec: CategorySpec
    ) -> Extraction:
        _, nlp, vader = self._parts()
        data, evidence = FieldExtractor(nlp).extract(transcript, spec)
        metrics = build_metrics(transcript, classification, nlp, vader, spec)
        return Extraction(domain_specific_data=data, evidence=evidence, general_metrics=metrics)

    def health(self) -> str:
        state = "loaded" if self._classifier is not None else "not loaded yet"
        return f"local analyzer: MiniLM + spaCy + VADER ({state})"
