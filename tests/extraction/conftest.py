"""Fixtures the analyzer's tests share: the real spaCy pipeline, VADER and the field engine."""

from __future__ import annotations

import pytest
from spacy.language import Language
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from audiohub.extraction.backends.local.engine import FieldExtractor
from audiohub.extraction.backends.local.nlp import load_spacy


@pytest.fixture(scope="session")
def nlp() -> Language:
    return load_spacy()


@pytest.fixture(scope="session")
def vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


@pytest.fixture(scope="session")
def extractor(nlp: Language) -> FieldExtractor:
    return FieldExtractor(nlp)
