"""Persons, organisations, places and addresses, from spaCy and the kinds' token patterns."""

from __future__ import annotations

from audiohub.extraction.backends.local.detect_names import detect
from audiohub.extraction.backends.local.dialogue import CallText
from audiohub.extraction.backends.local.nlp import load_spacy
from audiohub.fieldspec import FieldSpec


def _values(text: str, field: FieldSpec) -> list[str]:
    return [c.value for c in detect(CallText(load_spacy()(text)), field)]


def test_a_title_stays_with_the_name_and_goes_to_a_field_that_names_it() -> None:
    text = "I'd like to see Doctor Whitfield on Monday, my name is Rosa Delgado."
    call = CallText(load_spacy()(text))
    vet = detect(call, FieldSpec(name="vet_doctor", kind="person"))
    owner = detect(call, FieldSpec(name="owner_name", kind="person"))

    best_vet = max(vet, key=lambda c: c.quality)
    assert best_vet.value == "Doctor Whitfield"
    assert max(owner, key=lambda c: c.quality).value == "Rosa Delgado"


def test_a_street_address_from_the_house_number_to_the_town() -> None:
    found = _values("We're moving to 18 Larkspur Lane, Apartment 4, Millbrook next week.",
                    FieldSpec(name="new_home", kind="address"))

    assert found == ["18 Larkspur Lane, Apartment 4, Millbrook"]


def test_a_house_number_in_words() -> None:
    found = _values("The van should come to nine Quarry Road.",
                    FieldSpec(name="site", kind="address"))

    assert found == ["nine Quarry Road"]


def test_a_spelling_corrects_the_word_it_spells() -> None:
    found = _values("The name is Tomas Brennen, B-R-E-N-N-A-N.",
                    FieldSpec(name="caller", kind="person", said_by="customer"))

    assert "Tomas Brennan" in found


def test_a_name_answering_the_question_for_it_is_found_even_unknown_to_spacy() -> None:
    found = _values("Whose name is the booking under? Zuleika Odhiambo.",
                    FieldSpec(name="booker", kind="person", cues=["booking under"]))

    assert "Zuleika Odhiambo" in found


def test_the_agents_own_name_is_not_the_callers() -> None:
    found = _values("Thanks for calling Fernhill Dental, this is Priya speaking. "
                    "Hi Priya, it's Martin Coles.",
                    FieldSpec(name="caller", kind="person", said_by="customer"))

    assert "Priya" not in found and "Martin Coles" in found


def test_a_shop_after_at_is_an_organisation() -> None:
    found = _values("There's a payment of twelve dollars at Copperleaf Books I never made.",
                    FieldSpec(name="shop", kind="organization"))

    assert "Copperleaf Books" in found


def test_a_name_ending_in_a_business_word_is_an_organisation_not_its_street() -> None:
    field = FieldSpec(name="branch", kind="organization")
    found = detect(CallText(load_spacy()(
        "Please send the refill to Larchmont Chemists on Dunmore Road. The Pharmacy is shut.")),
        field)

    assert found[0].value == "Larchmont Chemists" and found[0].quality == 1.0
    assert "Pharmacy" not in [c.value for c in found]  # a business word alone names nothing


def test_a_short_reply_to_the_question_for_an_address_is_one() -> None:
    found = _values("Lovely, and what's the address there? Unit 5, 31 Ferry Row.",
                    FieldSpec(name="delivery_address", kind="address"))

    assert "Unit 5, 31 Ferry Row" in found
