"""Detectors of codes, digit strings, phone numbers, money, quantities and emails, each alone,
on sentences written for these tests."""

from __future__ import annotations

import pytest

from audiohub.extraction.backends.local.call import Candidate
from audiohub.extraction.backends.local.detect_numbers import (
    DETECTORS,
    detect_code,
    detect_digits,
    detect_email,
    detect_money,
    detect_phone,
    detect_quantity,
    number_runs,
)
from audiohub.fieldspec import FieldSpec
from tests.extraction.callview import SimpleCall


def field(kind: str, **hints: object) -> FieldSpec:
    return FieldSpec.model_validate({"name": "value", "kind": kind, **hints})


def values(found: list[Candidate]) -> list[str]:
    return [c.value for c in found]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Sure, it's 4 5 6 7.", "4567"),
        ("Sure, it's four five six seven.", "4567"),
        ("Sure, it's 45 67.", "4567"),
        ("Sure, it's forty five sixty seven.", "4567"),
        ("Sure, it's 4, 5, 6, 7.", "4567"),
        ("Sure, it's double 7 oh one.", "7701"),
    ],
)
def test_digits_however_whisper_writes_them(text: str, value: str) -> None:
    call = SimpleCall(text)
    found = detect_digits(call, field("digits", length=4))
    assert values(found) == [value]
    assert call.text[found[0].start:found[0].end].endswith(text.split("it's ")[1].rstrip("."))


def test_digits_respect_length() -> None:
    call = SimpleCall("The card ends in 3 9 1 8 and the branch is 22 0 4 1 7.")
    assert values(detect_digits(call, field("digits", length=4))) == ["3918"]
    assert values(detect_digits(call, field("digits", length=6))) == ["220417"]


def test_code_with_letters_and_shape() -> None:
    call = SimpleCall("My booking is P L seven seven three one five, and I paid 40 dollars.")
    assert values(detect_code(call, field("code"))) == ["PL77315"]
    assert values(detect_code(call, field("code", shape="AA-99999"))) == ["PL-77315"]
    assert detect_code(call, field("code", shape="999")) == []


def test_code_said_twice_and_spelled() -> None:
    call = SimpleCall("It's QR55012, QR55012. The other one is B as in Bravo, 4 4 9.")
    assert values(detect_code(call, field("code"))) == ["QR55012", "B449"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Sure, it's ZX58310-4.", "ZX583104"),
        ("Sure, it's MP402-117.", "MP402117"),
        ("Sure, it's QD-58203.", "QD58203"),
        ("Sure, it's RN7-0-0-254.", "RN700254"),
        ("Sure, it's K-W-I-3-0-9.", "KWI309"),
        ("Sure, it's C F two two eight one five.", "CF22815"),
        ("Sure, it's 4.0.9 7.7.1.", "409771"),
    ],
)
def test_code_said_in_pieces_is_one_code(text: str, value: str) -> None:
    call = SimpleCall(text)
    found = detect_code(call, field("code"))
    assert values(found) == [value]
    assert text[found[0].start:found[0].end] == text.split("it's ")[1].rstrip(".")


def test_code_read_back_in_pieces_is_one_value() -> None:
    call = SimpleCall("It's RN7-0-0-254 RN7-0-0-254, thanks. Then 4 5 6 7 4 5 6 7.")
    assert values(detect_code(call, field("code"))) == ["RN700254", "45674567"]


def test_code_sized_by_the_field() -> None:
    call = SimpleCall("The reference is GT-40-9371, I think.")
    assert values(detect_code(call, field("code", length=8))) == ["GT409371"]
    assert values(detect_code(call, field("code", shape="AA-999999"))) == ["GT-409371"]
    assert detect_code(call, field("code", length=6)) == []


def test_short_number_is_a_less_likely_code() -> None:
    found = detect_code(SimpleCall("It came to 100, and my id is 48213."), field("code"))
    quality = {c.value: c.quality for c in found}
    assert quality["100"] < quality["48213"]


def test_code_is_not_an_amount() -> None:
    call = SimpleCall("I bought three hundred of them for $450.")
    found = detect_code(call, field("code"))
    assert all(c.value != "450" for c in found)
    assert all(c.quality < 0.5 for c in found)  # "three hundred" is counted, not an id


def test_runs_are_read_once_per_call() -> None:
    call = SimpleCall("It's 1 2 3 4.")
    assert number_runs(call) is number_runs(call)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Ring me on four one five, five five five, zero one zero zero.", "(415) 555 0100"),
        ("Ring me on (212) 555-0199 after six.", "(212) 555 0199"),
        ("Ring me on +44 20 7946 0958.", "+44 20 7946 0958"),
        ("Ring me on eight hundred, five five five, one two three four.", "(800) 555 1234"),
        # A British mobile said with its leading zero ("oh"): the zero is the trunk prefix.
        ("Ring me on oh seven eight two two, four one nine, six three oh.", "07822 419630"),
    ],
)
def test_phone(text: str, value: str) -> None:
    found = detect_phone(SimpleCall(text), field("phone"))
    assert values(found) == [value] and found[0].quality >= 0.9


def test_a_spoken_oh_is_a_zero_only_before_a_run_of_digits() -> None:
    assert values(detect_digits(SimpleCall("Oh, four four one eight."), field("digits"))) == [
        "4418"]
    assert values(detect_digits(SimpleCall("It is oh three three nine one."), field("digits"))) \
        == ["03391"]


def test_an_amount_then_a_count_keeps_the_count_out() -> None:
    found = detect_money(SimpleCall("It was forty pounds twelve months ago."), field("money"))
    assert values(found) == ["£40"]


def test_phone_local_number_is_less_sure_and_an_id_is_none() -> None:
    found = detect_phone(SimpleCall("Text me on 555-0134. My order is 913052."), field("phone"))
    assert values(found) == ["555 0134"] and found[0].quality < 0.9


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("The fee was one hundred and twelve dollars.", "$112"),
        ("The fee was $200 and $12.", "$212"),
        ("The fee was forty nine dollars and ninety nine cents.", "$49.99"),
        ("The fee was $374 and 99 cents.", "$374.99"),
        ("The fee was $1,299.50 in total.", "$1299.50"),
        ("The fee was twenty bucks.", "$20"),
        ("The fee was thirty euros.", "€30"),
        # The pence or cents said after the unit, closing the phrase.
        ("The fee was sixty-two pounds thirty.", "£62.30"),
        ("The fee was twelve euros fifty p, I think.", "€12.50"),
    ],
)
def test_money(text: str, value: str) -> None:
    found = detect_money(SimpleCall(text), field("money"))
    assert values(found) == [value] and found[0].quality >= 0.9
    assert text[found[0].start:found[0].end] in text


def test_price_without_currency_is_less_sure_and_a_clock_time_is_none() -> None:
    found = detect_money(SimpleCall("I paid 89.99 and I'll call at 11.15."), field("money"))
    assert values(found) == ["$89.99"] and found[0].quality < 0.9


def test_quantity() -> None:
    call = SimpleCall("We need two boxes and three hundred labels for 4 nights at 3 pm.")
    found = {c.value: c.quality for c in detect_quantity(call, field("quantity"))}
    assert found["2 boxes"] >= 0.8 and found["300 labels"] >= 0.8 and found["4 nights"] >= 0.8
    assert not any("pm" in v for v in found)


def test_email_written_and_said() -> None:
    call = SimpleCall("It's sam dot lee underscore 2 at mail dot example dot org, or ab@x.io.")
    assert sorted(values(detect_email(call, field("email")))) == [
        "ab@x.io", "sam.lee_2@mail.example.org"]
    assert detect_email(SimpleCall("I'm at home, near the dot."), field("email")) == []


def test_registry_serves_each_kind() -> None:
    assert set(DETECTORS) == {"code", "digits", "phone", "money", "quantity", "email"}
    assert all(c.kind == "money" for c in DETECTORS["money"](SimpleCall("It's $5."),
                                                             field("money")))
