"""Date and time detectors, each alone, on sentences written for these tests."""

from __future__ import annotations

import pytest

from audiohub.extraction.backends.local.detect_time import detect_date, detect_time
from audiohub.fieldspec import FieldSpec
from tests.extraction.callview import SimpleCall

DATE = FieldSpec(name="when", kind="date")
TIME = FieldSpec(name="at", kind="time")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Could I come in on the twenty second of May?", "twenty second of May"),
        ("Could I come in Monday the 17th?", "Monday the 17th"),
        ("Could I come in next Tuesday?", "next Tuesday"),
        ("Could I come in on Wednesday, October 9th?", "Wednesday, October 9th"),
        ("I was born on April second, nineteen seventy one.", "April second, nineteen seventy one"),
        ("I was born on the 4th of July 1990.", "4th of July 1990"),
        ("Could I come in tomorrow afternoon?", "tomorrow afternoon"),
    ],
)
def test_dates_as_said(text: str, value: str) -> None:
    found = detect_date(SimpleCall(text), DATE)
    assert [c.value for c in found] == [value] and found[0].quality >= 0.8
    assert text[found[0].start:found[0].end] == value


@pytest.mark.parametrize(
    ("text", "said", "value"),
    [
        ("It was the 8th on June, I think.", "8th on June", "8th of June"),
        ("It was the ninth or October, I think.", "ninth or October", "ninth of October"),
        ("It was the 20 fourth of June, I think.", "20 fourth of June", "24th of June"),
        ("It was the 30 first on May, I think.", "30 first on May", "31st of May"),
    ],
)
def test_date_as_whisper_mishears_it(text: str, said: str, value: str) -> None:
    found = detect_date(SimpleCall(text), DATE)
    assert [c.value for c in found] == [value]
    assert text[found[0].start:found[0].end] == said  # the evidence is what was written


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("It went through last Friday, the 9th.", "last Friday, the 9th"),
        ("It went through this morning.", "this morning"),
        ("It went through on the 9th.", "the 9th"),
    ],
)
def test_dates_said_with_their_day(text: str, value: str) -> None:
    assert [c.value for c in detect_date(SimpleCall(text), DATE)] == [value]


def test_an_ordinal_counting_a_thing_is_no_date() -> None:
    call = SimpleCall("Usage went up in the second half of the month, the first time ever.")
    assert detect_date(call, DATE) == []


def test_a_number_alone_is_a_vague_date() -> None:
    found = detect_date(SimpleCall("My March bill shows a charge of 2019."), DATE)
    assert {c.value: c.quality < 0.5 for c in found} == {"March": True, "2019": True}


def test_vague_date_is_less_sure_and_a_duration_is_none() -> None:
    found = detect_date(SimpleCall("It has hurt for two weeks, so maybe next month."), DATE)
    assert [(c.value, c.quality < 0.5) for c in found] == [("next month", True)]


def test_date_is_not_a_number_or_a_verb() -> None:
    assert detect_date(SimpleCall("My account is 4 5 6 7. You may go."), DATE) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("The slot is at half past four.", "half past four"),
        ("The slot is at four thirty p m.", "four thirty p m"),
        ("The slot is at 10:40 am.", "10:40 am"),
        ("The slot is at twenty past two.", "twenty past two"),
        ("The slot is at noon.", "noon"),
        ("The slot is 3 p.m. on Friday.", "3 p.m."),
        ("The slot is at half past 9 in the morning.", "half past 9 in the morning"),
        # British "half seven" is half past seven; a booking window is one value.
        ("The slot is half seven, if that suits.", "half seven"),
        ("The engineer comes between nine and eleven.", "between nine and eleven"),
        ("The engineer comes from two till four p m.", "from two till four p m"),
    ],
)
def test_times_as_said(text: str, value: str) -> None:
    found = detect_time(SimpleCall(text), TIME)
    assert found[0].value == value and found[0].quality >= 0.8


def test_clock_time_without_am_pm_is_less_sure() -> None:
    at = detect_time(SimpleCall("Let's say at eleven fifteen."), TIME)
    bare = detect_time(SimpleCall("Let's say eleven fifteen."), TIME)
    assert at[0].value == bare[0].value == "eleven fifteen"
    assert 0.5 <= at[0].quality < 0.8 and bare[0].quality < at[0].quality


def test_a_range_of_days_is_not_a_time() -> None:
    assert detect_time(SimpleCall("It takes 5 to 7 business days."), TIME) == []
    assert detect_time(SimpleCall("It takes between three and five days."), TIME) == []
    assert [c.value for c in detect_time(SimpleCall("Only half of one."), TIME)] == []


def test_date_leaves_the_clock_time_out() -> None:
    call = SimpleCall("See you next Tuesday at 3 pm.")
    assert [c.value for c in detect_date(call, DATE)] == ["next Tuesday"]
    assert [c.value for c in detect_time(call, TIME)] == ["3 pm"]
