"""detect_text: free-text, choice and yes/no values found from a field's spec alone."""

from __future__ import annotations

import bisect
from typing import Any

import pytest
from spacy.tokens import Doc

from audiohub.extraction.backends.local.call import CallView, Candidate
from audiohub.extraction.backends.local.detect_text import (
    detect_choice,
    detect_text,
    detect_yes_no,
)
from audiohub.extraction.backends.local.nlp import load_spacy
from audiohub.fieldspec import Choice, FieldSpec


class Call:
    """A CallView over (speaker, line) turns, with who says what known."""

    def __init__(self, turns: list[tuple[str, str]]) -> None:
        self.text = " ".join(line for _, line in turns)
        self.doc: Doc = load_spacy()(self.text)
        self.sents = [(s.start_char, s.end_char) for s in self.doc.sents]
        self.memo: dict[str, Any] = {}
        self._turns: list[tuple[int, str]] = []
        pos = 0
        for who, line in turns:
            self._turns.append((pos, who))
            pos += len(line) + 1

    def sentence(self, pos: int) -> int:
        return bisect.bisect_right([s for s, _ in self.sents], pos) - 1

    def by_agent(self, sent: int) -> bool:
        i = bisect.bisect_right([p for p, _ in self._turns], self.sents[sent][0]) - 1
        return self._turns[i][1] == "agent"

    def is_question(self, sent: int) -> bool:
        s, e = self.sents[sent]
        return self.text[s:e].rstrip().endswith("?")


def _top(found: list[Candidate], n: int = 1) -> list[str]:
    return [c.value for c in found[:n]]


def test_the_call_double_is_a_call_view() -> None:
    view: CallView = Call([("agent", "Hello.")])
    assert view.sentence(0) == 0


KNEE = Call([
    ("agent", "Good afternoon, Maple Street Surgery, how can I help?"),
    ("customer", "Hi, I'd like an appointment with a doctor."),
    ("agent", "Of course. Can I ask what it's about?"),
    ("customer", "My knee has been sore and swollen since I fell off my bike on Saturday."),
    ("agent", "I can fit you in on Thursday at ten."),
])


def test_a_reason_is_the_clause_that_tells_why() -> None:
    reason = FieldSpec(name="reason", kind="text", description="why the caller wants to be seen",
                       examples=["I need to be seen because [my wrist hurts after a fall]."])
    found = detect_text(KNEE, reason)
    # Either clause of "my knee has been sore and swollen since I fell off my bike" tells why.
    assert any(w in found[0].value for w in ("knee has been sore and swollen", "fell off my bike"))
    assert "knee has been sore and swollen" in " ".join(_top(found, 3))
    assert all(0.0 < c.quality <= 1.0 for c in found)
    assert found == sorted(found, key=lambda c: -c.quality)
    assert KNEE.text[found[0].start:found[0].end] == found[0].value


def test_a_span_of_the_fields_own_words_is_no_value() -> None:
    reason = FieldSpec(name="reason", kind="text",
                       description="why the caller wants an appointment")
    found = detect_text(KNEE, reason)
    assert "appointment" not in found[0].value.lower()


def test_the_call_is_embedded_once_for_every_field() -> None:
    call = Call([("customer",
                  "I ordered a pair of walking boots and they arrived with a torn sole.")])
    item = FieldSpec(name="item", kind="text", description="what the customer bought",
                     cues=["I ordered", "I bought"])
    reason = FieldSpec(name="problem", kind="text", description="what is wrong with it")
    detect_text(call, item)
    spans = call.memo["detect_text.spans"]
    detect_text(call, reason)
    assert call.memo["detect_text.spans"] is spans
    assert "walking boots" in detect_text(call, item)[0].value


def test_a_category_the_library_lacks() -> None:
    call = Call([
        ("agent", "Brookside Primary School, attendance line."),
        ("customer", "Hello, I'm ringing to say my daughter Ella won't be in today."),
        ("customer", "She's been up all night with a stomach bug."),
        ("agent", "Sorry to hear that, I'll mark her absent."),
    ])
    absence = FieldSpec(name="absence_reason", kind="text",
                        description="why the pupil is absent from school",
                        examples=["He won't be in, [he has a bad cold]."])
    assert "stomach bug" in " ".join(_top(detect_text(call, absence), 2))


DELIVERY = FieldSpec(
    name="delivery_option", kind="choice", description="how the parcel should be delivered",
    choices=[Choice(value="standard"), Choice(value="express", synonyms=["next day"]),
             Choice(value="collection", synonyms=["click and collect", "pick it up"])],
)


def test_a_choice_by_its_synonym_and_by_lemma() -> None:
    call = Call([
        ("agent", "Would you like standard or express delivery?"),
        ("customer", "Next day, please, I need it for the weekend."),
    ])
    found = detect_choice(call, DELIVERY)
    assert found[0].value == "express"
    assert call.text[found[0].start:found[0].end].lower() == "next day"
    # The agent's question offers both: neither mention is the one chosen.
    offered = [c for c in found if c.start < call.sents[1][0]]
    assert all(c.quality < found[0].quality for c in offered)

    picked = Call([("customer", "I'll be picking it up from the shop myself.")])
    assert _top(detect_choice(picked, DELIVERY)) == ["collection"]


def test_no_choice_when_none_is_said() -> None:
    call = Call([("customer", "Can you tell me your opening hours on Sunday?")])
    assert detect_choice(call, DELIVERY) == []


INSURED = FieldSpec(name="has_insurance", kind="yes_no",
                    description="whether the patient has health insurance",
                    cues=["do you have insurance"])


@pytest.mark.parametrize(("reply", "expected"), [
    ("Yes, I'm with Blue Shield.", "yes"),
    ("No, I don't, I'll be paying myself.", "no"),
])
def test_yes_no_reads_the_reply_to_the_question_that_asks_it(reply: str, expected: str) -> None:
    call = Call([
        ("agent", "Thanks. Do you have health insurance?"),
        ("customer", reply),
        ("agent", "Great, see you on Monday."),
    ])
    found = detect_yes_no(call, INSURED)
    assert found[0].value == expected
    assert found[0].start >= call.sents[2][0] - len(reply) - 1


def test_yes_no_from_a_statement() -> None:
    call = Call([("customer", "I don't have any health insurance at the moment.")])
    assert _top(detect_yes_no(call, INSURED)) == ["no"]


def test_a_choice_by_lemma_in_a_new_category() -> None:
    job = FieldSpec(name="job_type", kind="choice",
                    description="the work the plumber is booked for",
                    choices=[Choice(value="install"), Choice(value="repair", synonyms=["fix"])])
    call = Call([("customer", "We need a new boiler installed before the winter.")])
    found = detect_choice(call, job)
    assert found[0].value == "install"
    assert call.text[found[0].start:found[0].end] == "installed"


def test_the_thing_a_which_question_asks_for_outranks_its_plain_noun() -> None:
    # "printer" alone classes the thing; the reply to "Which printer?" names it.
    printer = FieldSpec(name="machine", kind="text", description="the machine that jams",
                        examples=["It's [a Canon inkjet printer]."])
    call = Call([
        ("customer", "Hello, my printer keeps jamming on every page."),
        ("agent", "Which printer is it?"),
        ("customer", "A Brother laser, the one from the office."),
    ])
    assert "Brother" in detect_text(call, printer)[0].value


def test_a_field_that_is_asked_reads_its_speakers_questions() -> None:
    call = Call([("agent", "Harbour Mutual, how can I help? Can you give me your name?"),
                 ("customer", "I have a question about my boat insurance. "
                              "Is my camera covered if it is stolen abroad?")])
    question = FieldSpec(name="question", kind="text", said_by="customer",
                         description="what the customer wants to know about the policy",
                         examples=["Can you tell me [how much my excess is]?"])
    values = [c.value for c in detect_text(call, question)]

    assert "Is my camera covered" in values[:3]
    assert "Can you give me your name" not in values[:3]
