"""Scoring exactly as ../shared/taxonomy.md says."""

from __future__ import annotations

import pytest

from audiohub.evaluation.normalize import field_found, normalize_field, normalize_for_wer


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("four five six seven", "4567"),
        ("four five six seven", "4 5 6 7"),
        ("forty nine dollars and ninety nine cents", "$49.99"),
        ("a hundred and twenty dollars", "$120"),
        ("three p m", "3 p.m."),
        ("the twenty third of June", "the 23rd of June"),
        ("nineteen eighty five", "1985"),
        ("Hello, World!", "hello world"),
        ("ten forty a m", "10.40am"),
        ("Doctor Patel and Mister Iyer", "Dr. Patel and Mr Iyer"),
        ("four oh nine one", "4091"),
        ("oh two one", "021"),
    ],
)
def test_wer_treats_spelled_numbers_and_digits_alike(a: str, b: str) -> None:
    assert normalize_for_wer(a) == normalize_for_wer(b)


def test_field_normal_form() -> None:
    assert normalize_field("P L seven seven three one five") == "pl77315"
    assert normalize_field("November twelfth, 1982") == normalize_field("November 12 1982")
    assert normalize_field("oh one two") == "oh12"  # "oh" stays a word
    assert normalize_for_wer("oh no, it's late") == "oh no it s late"  # an "oh" alone stays too


@pytest.mark.parametrize(
    ("expected", "returned", "found"),
    [
        ("4821", "4 8 2 1", True),
        ("$49.99", "forty nine dollars and ninety nine cents", True),
        ("58.30", "$58.30", True),  # the sign is punctuation, as the taxonomy says
        ("thirty-six pounds", "£36", True),  # pounds and euros read as said, like dollars
        ("sixty-two pounds thirty", "£62.30", True),
        ("twelve euros fifty", "€12.50", True),
        ("58.30", "$58.31", False),
        ("stolen", "my credit card was stolen", True),  # expected inside returned
        ("left it in a taxi", "taxi", True),  # returned (>= 3 chars) inside expected
        ("left it in a taxi", "in", False),  # returned too short to count
        ("Maria Lopez", None, False),
        ("Maria Lopez", "Mario Lopes", False),
    ],
)
def test_field_found(expected: str, returned: str | None, found: bool) -> None:
    assert field_found(expected, returned) is found
