"""The acts of a call read from spaCy's parse, and the outcome and action items built on them;
every sentence written for these tests, with punctuation and as Whisper-like lower case."""

from __future__ import annotations

import pytest
from spacy.language import Language
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from audiohub.extraction.backends.local.acts import acts
from audiohub.extraction.backends.local.metrics import action_items, call_outcome


def _read(nlp: Language, vader: SentimentIntensityAnalyzer, text: str) -> tuple[str, list[str]]:
    doc = nlp(text)
    said = acts(doc)
    return call_outcome(doc, said, vader), action_items(said)


def _whisper(text: str) -> str:
    return "".join(c for c in text.lower() if c not in ",.?!")


BLOCKED = ("My card was stolen last night. I've blocked the card and opened a dispute. "
           "We'll send you a replacement within a week. Thanks.")


@pytest.mark.parametrize("text", [BLOCKED, _whisper(BLOCKED)])
def test_done_acts_and_a_promised_replacement_resolve_the_call(
        nlp: Language, vader: SentimentIntensityAnalyzer, text: str) -> None:
    outcome, items = _read(nlp, vader, text)

    assert outcome == "resolved"
    assert len(items) == 1 and "send you a replacement within a week" in items[0]


@pytest.mark.parametrize(("text", "outcome"), [
    ("I'm afraid we're unable to refund it, the charge is final. Okay.", "unresolved"),
    ("i'm sorry there's nothing i can do about that fee okay bye", "unresolved"),
    ("I'd like to change my flight. I can't change that fare, it's non refundable. Oh.",
     "unresolved"),
    # What happened to the caller is no act done for them.
    ("I've had this problem for weeks. Nobody has fixed it. This is terrible.", "unresolved"),
    ("My heating is broken. Let me put you through to our repairs team.", "transferred"),
    ("my heating is broken one moment i'm transferring you to the repairs team", "transferred"),
    ("I need to check with my manager. I'll call you back tomorrow morning.",
     "follow_up_required"),
    ("Someone from our team will contact you within two days about the claim.",
     "follow_up_required"),
    # A refusal, then something done after all.
    ("We can't waive the fee, but I've applied a credit of ten dollars to your account.",
     "resolved"),
    ("It's been cancelled and you're booked on the nine o'clock instead.", "resolved"),
    ("I'm blocking it now.", "resolved"),
    # No act at all: a question answered and thanked for, or nothing.
    ("Are you open on Sunday? Yes, from ten until four. Perfect, thank you so much!", "resolved"),
    ("I'd like a follow-up appointment with Dr. Patel.", "unresolved"),
    # Only if something happens later: not a follow-up.
    ("If the parcel hasn't come by Friday, we'll call you. Okay.", "unresolved"),
])
def test_outcome_from_the_acts(nlp: Language, vader: SentimentIntensityAnalyzer, text: str,
                               outcome: str) -> None:
    assert _read(nlp, vader, text)[0] == outcome


@pytest.mark.parametrize(("text", "items"), [
    ("Your booking is confirmed. Please bring your passport and arrive an hour early.",
     ["Please bring your passport and arrive an hour early"]),
    ("I'm going to reset your modem from here. An engineer will visit on Tuesday.",
     ["I'm going to reset your modem from here", "An engineer will visit on Tuesday"]),
    ("Will I get a refund? Yes, you'll receive the refund in five days.",
     ["Yes, you'll receive the refund in five days"]),
    # Promises of a state, a question, a courtesy and a negation are no items.
    ("I'll need a new form. Hold on please. Take care. It won't happen again. Will do.", []),
    ("I'll spell it for you, it's Dana.", []),
    ("will i get the full amount back", []),
])
def test_action_items_are_commitments_and_requests(
        nlp: Language, vader: SentimentIntensityAnalyzer, text: str, items: list[str]) -> None:
    assert _read(nlp, vader, text)[1] == items


def test_coordinated_acts_are_one_item_without_the_clause_that_follows(
        nlp: Language, vader: SentimentIntensityAnalyzer) -> None:
    text = ("I'll cancel the old policy, refund the last premium and email you the papers, "
            "and you'll get a letter too.")
    assert _read(nlp, vader, text)[1] == [
        "I'll cancel the old policy, refund the last premium and email you the papers",
        "you'll get a letter too"]
