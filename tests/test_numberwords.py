"""The one module for number words, months and ordinals."""

from __future__ import annotations

import re

import pytest

from audiohub.numberwords import (
    DIGIT_WORD,
    MONTH,
    ORDINAL,
    WEEKDAY,
    join_split_ordinals,
    number_value,
    ordinal_suffix,
    spoken_digits,
    words_to_digits,
)


@pytest.mark.parametrize(
    ("said", "digits"),
    [
        ("four five six seven", "4567"),
        ("45 67", "4567"),
        ("forty five sixty seven", "4567"),
        ("double seven oh one", "7701"),
        ("triple 5 2", "5552"),
        ("nine, oh, two", "902"),
        ("eight hundred, five five five", "800555"),
        ("the cat", ""),
    ],
)
def test_spoken_digits(said: str, digits: str) -> None:
    assert spoken_digits(said) == digits


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("one hundred and twelve", 112),
        ("a thousand", 1000),
        ("1,200", 1200),
        ("twenty third", 23),
        ("seventy", 70),
        ("four five", None),  # two numbers, not one
        ("hello", None),
    ],
)
def test_number_value(said: str, value: int | None) -> None:
    assert number_value(said) == value


def test_words_to_digits_keeps_digit_by_digit_speech_apart() -> None:
    assert words_to_digits("my pin is four five and I have a hundred and twenty") == (
        "my pin is 4 5 and I have 120")
    assert words_to_digits("the twenty third of June") == "the 23rd of June"
    assert words_to_digits("oh no") == "oh no"  # "oh" is a digit only inside a number


def test_ordinal_suffix() -> None:
    assert [ordinal_suffix(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "st", "nd", "rd", "th", "th", "th", "th", "st", "nd", "st"]


def test_fragments_match_whole_words() -> None:
    assert re.fullmatch(ORDINAL, "twenty-second", re.I)
    assert re.fullmatch(ORDINAL, "22nd")
    assert re.fullmatch(ORDINAL, "30 first")  # Whisper's "thirty first"
    assert re.fullmatch(MONTH, "September") and not re.fullmatch(MONTH, "Sept")
    assert re.fullmatch(WEEKDAY, "Thursday")
    # Longest first: "seventeen" is not "seven" then "teen".
    assert re.match(rf"(?:{DIGIT_WORD}|seventeen)\b", "seventeen")


def test_split_ordinals_are_joined() -> None:
    assert join_split_ordinals("the 20 third of June") == "the 23rd of June"
    assert join_split_ordinals("on the 30 first") == "on the 31st"
    assert join_split_ordinals("20 people, the second of June") == "20 people, the second of June"
