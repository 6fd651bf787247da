"""Kind data and the kind a field written before kinds gets."""

from __future__ import annotations

import pytest

from audiohub.extraction.backends.local.kinds import KINDS, infer_kind, words
from audiohub.fieldspec import KINDS as FIELD_KINDS


@pytest.mark.parametrize(("name", "description", "kind"), [
    ("caller_name", "", "person"),
    ("shop_name", "", "organization"),   # a name of a business, not of a person
    ("hotel", "the hotel booked", "organization"),
    ("pickup_city", "", "place"),
    ("home_address", "", "address"),
    ("invoice_number", "", "code"),
    ("card_last_four", "", "digits"),
    ("contact_phone", "", "phone"),
    ("email", "", "email"),
    ("phone_number", "", "phone"),        # the medium, not the generic last word
    ("email_address", "", "email"),
    ("deposit", "", "money"),
    ("move_date", "", "date"),
    ("billing_month", "", "date"),
    ("visit_time", "", "time"),
    ("party_size", "how many people are coming", "quantity"),
    ("attended", "whether the pupil attended", "yes_no"),
    ("meeting_point", "where they will meet", "place"),
    ("complaint", "what the caller is unhappy about", "text"),
])
def test_infers_a_kind_from_the_words_of_a_name_and_description(
        name: str, description: str, kind: str) -> None:
    assert infer_kind(name, description) == kind


def test_every_field_kind_has_data_and_a_detector() -> None:
    assert set(KINDS) == set(FIELD_KINDS)
    for info in KINDS.values():
        module, function = info.detector.split(".")
        assert module.startswith("detect_") and function


def test_words_split_names_and_phrases() -> None:
    assert words("seat_row-Letter") == ["seat", "row", "letter"]
    assert words("date of birth") == ["date", "of", "birth"]
