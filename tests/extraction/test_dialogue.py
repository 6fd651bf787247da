"""Who says what, which sentences ask, and which sentence answers a question."""

from __future__ import annotations

import pytest

from audiohub.extraction.backends.local.dialogue import CallText, term_pattern
from audiohub.extraction.backends.local.nlp import load_spacy


def _call(text: str) -> CallText:
    return CallText(load_spacy()(text))


def _said(call: CallText, i: int) -> str:
    s, e = call.sents[i]
    return call.text[s:e].strip()


def test_the_agent_opens_the_call_and_introduces_themself() -> None:
    call = _call("Thanks for calling Birchwood Library, this is Noor. How can I help? "
                 "Hi Noor, I want to renew two books.")
    agent = [i for i in range(len(call.sents)) if call.by_agent(i)]

    assert agent == [0, 1]
    assert call.opening(0)
    assert not call.by_agent(len(call.sents) - 1)


@pytest.mark.parametrize(("said", "asks"), [
    ("What's the number on your card?", True),
    ("May I have your surname please.", True),   # Whisper dropped the question mark
    ("And your postcode.", True),                # asked as a bare phrase
    ("I left it on the bus.", False),
])
def test_questions_are_found_with_or_without_their_mark(said: str, asks: bool) -> None:
    assert _call(said).is_question(0) is asks


def test_the_answer_is_the_next_sentence_less_its_lead() -> None:
    call = _call("Which branch do you use? Yes, it's the one by the harbour. Thanks.")
    answers = call.answers(term_pattern(["branch"]))

    assert [(q, call.text[s:e]) for q, (s, e) in answers] == [(0, "the one by the harbour")]


def test_a_short_reply_lets_the_next_sentence_answer_too() -> None:
    call = _call("Could I take the account holder's name? Sure. Imogen Hartley.")
    spans = [call.text[s:e] for _, (s, e) in call.answers(term_pattern(["name"]))]

    assert spans == ["Imogen Hartley"]


def test_a_question_about_something_else_has_no_answer_for_the_field() -> None:
    call = _call("What time suits you? Mornings are best.")

    assert call.answers(term_pattern(["postcode"])) == []


def test_values_taken_back_turned_down_or_accepted() -> None:
    call = _call("It's 4418. Sorry, no, 4419. Tuesday is no good. Thursday works for me.")
    first = call.text.index("4418") + 4

    assert call.taken_back(first, call.text.index("4419"))
    assert not call.taken_back(call.text.index("4419") + 4, len(call.text))
    assert call.turned_down(call.text.index("Tuesday") + len("Tuesday"))
    assert call.accepts(call.sentence(call.text.index("Thursday")))
    assert not call.accepts(call.sentence(call.text.index("Tuesday")))
