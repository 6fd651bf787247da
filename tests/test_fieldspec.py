"""The field spec: what a category's field is, as data every analyzer reads."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from audiohub.fieldspec import KINDS, FieldSpec


def test_every_kind_is_accepted_and_others_are_refused() -> None:
    for kind in KINDS:
        extra = {"choices": ["a"]} if kind == "choice" else {}
        assert FieldSpec.model_validate({"name": "x", "kind": kind, **extra}).kind == kind
    with pytest.raises(ValidationError, match="kind"):
        FieldSpec.model_validate({"name": "x", "kind": "colour"})


def test_kinds_of_older_rows_are_read_as_todays() -> None:
    assert FieldSpec.model_validate({"name": "ref", "kind": "id"}).kind == "code"
    assert FieldSpec.model_validate({"name": "bill", "kind": "month"}).kind == "date"
    assert FieldSpec(name="note").kind == "text"


def test_a_choice_needs_its_choices_and_takes_plain_values_or_synonyms() -> None:
    with pytest.raises(ValidationError, match="needs its choices"):
        FieldSpec(name="plan", kind="choice")
    spec = FieldSpec.model_validate({"name": "plan", "kind": "choice", "choices": [
        "basic", {"value": "premium", "synonyms": ["gold", "top tier"]}]})
    assert [(c.value, c.synonyms) for c in spec.choices] == [
        ("basic", []), ("premium", ["gold", "top tier"])]


def test_an_example_marks_its_value_once() -> None:
    spec = FieldSpec(name="member_id", kind="code",
                     examples=["my member number is [KT 4471]", "it's [LM9920], yes"])
    assert spec.marked_examples() == [("my member number is KT 4471", "KT 4471"),
                                      ("it's LM9920, yes", "LM9920")]
    for bad in ("no value marked here", "two [marks] in [one]"):
        with pytest.raises(ValidationError, match="brackets"):
            FieldSpec(name="member_id", examples=[bad])


def test_a_shape_uses_letters_digits_and_separators_only() -> None:
    assert FieldSpec(name="postcode", kind="code", shape="AA9 9AA").shape == "AA9 9AA"
    with pytest.raises(ValidationError, match="shape"):
        FieldSpec(name="postcode", kind="code", shape="(.*)+")
    with pytest.raises(ValidationError):
        FieldSpec(name="pin", kind="digits", length=0)
