"""The local classifier on transcripts written the way Whisper writes calls."""

from __future__ import annotations

import pytest

from audiohub.domain import Transcript
from audiohub.extraction.backends.local import disfluency
from audiohub.extraction.backends.local.classifier import EmbeddingClassifier
from audiohub.extraction.backends.local.embedded import embed_text
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


# One call of every category, and a second of the pairs most alike (a card lost or misused, a
# bill questioned or disputed), said in other words than the library's examples.
OTHER_WORDS = [
    ("Hello, Pinewood Bank. Hi, I left my wallet on the bus this morning and my debit card was "
     "in it. Can you stop the card? Sure, what are the last four digits? 3 3 9 1. Okay, it's "
     "cancelled and a new one is on its way.",
     "banking", "card_block"),
    ("Pinewood Bank, how can I help? Hi, my banking app shows a payment of 180 dollars to a "
     "company called Nova Travel, and I've never heard of them. When was it? Yesterday "
     "afternoon. Okay, I'll raise a dispute and cancel the card.",
     "banking", "fraud_report"),
    ("Hi, someone has been taking money out of my account. There are three withdrawals from a "
     "cash machine in Leeds and I live in Bristol. I've still got my card with me.",
     "banking", "fraud_report"),
    ("I think my card's been swallowed by the cash machine outside the station. Can you cancel "
     "it so nobody can use it? The number ends in 8 8 0 2.",
     "banking", "card_block"),
    ("Hi, I'm calling about my phone bill. You've charged me 30 pounds for data I didn't use, "
     "I was on wifi the whole month. My account number is 5 5 2 1 9 0.",
     "telecom", "billing_dispute"),
    ("Hi, my electricity bill for March is much higher than usual, 240 dollars. Can you "
     "explain why? Let me check the meter readings on your account.",
     "utilities", "billing_inquiry"),
    ("Hi, my broadband has been really slow since the weekend, pages won't load and the router "
     "keeps restarting itself.",
     "telecom", "technical_support"),
    ("Hi, I ordered a sofa three weeks ago and it still hasn't been delivered. Can you tell me "
     "where it is? The order number is 7 7 1 0 2.",
     "ecommerce", "order_status"),
    ("Hi, the jacket I bought online is the wrong size and I'd like to send it back and get my "
     "money refunded.",
     "ecommerce", "refund_request"),
    ("Hi, I have a flight to Rome on the 5th and I'd like to move it to the 8th if there's "
     "space.",
     "travel", "booking_change"),
    ("Hi, I booked a room at your hotel for next weekend but our plans have changed, so I'd "
     "like to cancel it please.",
     "travel", "reservation_cancellation"),
    ("Hello, I need to make a claim on my car insurance. Someone drove into the back of me at "
     "the lights yesterday. My policy number is M T 4 4 1 9 0.",
     "insurance", "claim_filing"),
    ("Hi, I have travel insurance with you and I wanted to know whether it covers skiing, I'm "
     "going to the Alps next month.",
     "insurance", "policy_inquiry"),
    ("Hi, I'm moving into a new flat on the 1st of next month and I need to set up the water "
     "supply in my name. The address is 12 Harbour Road.",
     "utilities", "service_connection"),
    ("Hi, I just wanted to ask what time your branch on King Street closes on Saturdays, and "
     "whether I need an appointment.",
     "general", "general_inquiry"),
    ("Hello, I'd like to book an appointment with Doctor Shah for my daughter, she's had an "
     "earache for two days. Do you have anything tomorrow?",
     "healthcare", "appointment_scheduling"),
    ("Hi, I'm running low on my inhaler and I need a repeat prescription sent to the chemist "
     "on Station Road.",
     "healthcare", "prescription_refill"),
]


@pytest.mark.parametrize(("text", "domain", "category"), OTHER_WORDS)
def test_every_category_in_other_words(
    classifier: EmbeddingClassifier, text: str, domain: str, category: str
) -> None:
    c = classifier.classify(call(text), load_library())
    assert (c.domain, c.category) == (domain, category)


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


def test_reads_the_call_without_hesitations_in_the_pass_extraction_reuses(
    classifier: EmbeddingClassifier,
) -> None:
    said = ("Hi, um, I, I need to, uh, cancel my hotel booking for next weekend, our plans "
            "have, um, changed.")
    clean = disfluency.clean(said).text
    assert clean != said
    embed_text.cache_clear()
    c_said = classifier.classify(call(said), load_library())
    c_clean = classifier.classify(call(clean), load_library())
    assert c_said == c_clean
    assert (c_said.domain, c_said.category) == ("travel", "reservation_cancellation")
    # The text fields' detectors find the call's pass already made (one miss, then hits).
    before = embed_text.cache_info()
    embed_text(classifier.embedder, clean)
    assert embed_text.cache_info().hits == before.hits + 1
    assert embed_text.cache_info().misses == before.misses == 1
