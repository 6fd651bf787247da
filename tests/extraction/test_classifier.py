"""The local classifier on transcripts written the way Whisper writes calls."""

from __future__ import annotations

import pytest

from audiohub.domain import Transcript
from audiohub.extraction.backends.local.classifier import EmbeddingClassifier
from audiohub.extraction.backends.local.embedder import MiniLMEmbedder
from audiohub.prompts.library import load_library


@pytest.fixture(scope="module")
def classifier() -> EmbeddingClassifier:
    return EmbeddingClassifier(MiniLMEmbedder.from_package(), threshold=0.25)


def call(text: str) -> Transcript:
    return Transcript(text=text, language="en", duration=30.0)


@pytest.mark.parametrize(
    ("text", "domain", "category"),
    [
        ("Thanks for calling Metro Bank, this is Sam. Hi, I think somebody took my wallet on the "
         "train and my Visa card was in it. Can you stop the card before anyone uses it? Sure, "
         "I have put a block on it and a new one will be mailed to you.",
         "banking", "card_block"),
        ("Good morning, Greenfield Power. Hello, we're moving into a new house on Elm Street at "
         "the end of the month and we need the electricity switched on there from the first. "
         "No problem, I'll set up the new account for that address.",
         "utilities", "service_connection"),
        ("Hi, I'm calling to ask what time your store closes on Sundays. We close at six. "
         "Great, thank you, that's all I needed.",
         "general", "general_inquiry"),
    ],
)
def test_picks_the_category_among_all(
    classifier: EmbeddingClassifier, text: str, domain: str, category: str
) -> None:
    c = classifier.classify(call(text), load_library())
    assert (c.domain, c.category) == (domain, category)
    assert 0 < c.margin <= c.score <= 1


def test_empty_transcript_is_general(classifier: EmbeddingClassifier) -> None:
    c = classifier.classify(call(""), load_library())
    assert (c.domain, c.category, c.score) == ("general", "general_inquiry", 0.0)


def test_nothing_close_enough_is_general(classifier: EmbeddingClassifier) -> None:
    high = EmbeddingClassifier(classifier.embedder, threshold=0.99)
    c = high.classify(call("My card was stolen, please block it."), load_library())
    assert (c.domain, c.category) == ("general", "general_inquiry")
    assert c.score < 0.99


def test_long_calls_are_read_in_windows(classifier: EmbeddingClassifier) -> None:
    short = ("Thanks for calling Skyline Mobile support. Hi, my internet keeps dropping every "
             "few minutes and the router lights are blinking red. Let's restart the modem and "
             "run a line test. Okay, it is still disconnecting. ")
    long = short * 12  # ~400 words: more than one 120-word window
    assert len(long.split()) > 300
    c_short = classifier.classify(call(short), load_library())
    c_long = classifier.classify(call(long), load_library())
    assert (c_long.domain, c_long.category) == (c_short.domain, c_short.category) == (
        "telecom", "technical_support")
