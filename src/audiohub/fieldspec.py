"""A category's field, as data: what kind of value it is, who says it and how it is introduced.

Every analyzer reads the same spec. The offline analyzer builds its whole behaviour for a field from
it (extraction/backends/local/engine.py), so a category written in the dashboard, POSTed to
`/api/prompts` or drafted by an LLM is extracted with no code of its own.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

FieldKind = Literal[
    "person", "organization", "place", "address", "code", "digits", "money", "date", "time",
    "phone", "email", "quantity", "choice", "yes_no", "text",
]
KINDS: tuple[FieldKind, ...] = (
    "person", "organization", "place", "address", "code", "digits", "money", "date", "time",
    "phone", "email", "quantity", "choice", "yes_no", "text",
)
SaidBy = Literal["agent", "customer", "either"]

# Kinds of the analyzer before specs had kinds, as stored in older prompt rows.
LEGACY_KINDS: dict[str, FieldKind] = {"id": "code", "month": "date"}

# A code's shape: A a letter, 9 a digit, anything else itself ("AA-9999", "999 999").
_SHAPE = re.compile(r"^[A9 \-/.]{1,40}$")
# A marked value in an example sentence: "my account number is [4 5 6 7]".
_MARKED = re.compile(r"\[([^\[\]]+)\]")


def _clean(value: str) -> str:
    from audiohub.domain import clean_text  # domain imports this module

    return clean_text(value)


Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80),
                   AfterValidator(_clean)]
Sentence = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
                     AfterValidator(_clean)]


def _legacy_kind(value: Any) -> Any:
    return LEGACY_KINDS.get(value, value) if isinstance(value, str) else value


class Choice(BaseModel):
    """One listed value of a `choice` field and the other ways callers say it."""

    value: Phrase
    synonyms: list[Phrase] = Field(default_factory=list, max_length=20)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        return {"value": data} if isinstance(data, str) else data


class FieldSpec(BaseModel):
    """One field of a category's schema.

    `kind` decides which detectors propose values; `said_by`, `cues` and the question a value
    answers decide which proposal is this field's; `choices` lists a `choice` field's values;
    `length`/`shape` narrow a `code` or `digits` field; `examples` are sentences with the value in
    square brackets. `kind_inferred` is true while the kind is a guess made for a spec written
    before kinds (prompts/kinds.py): the dashboard shows it for a person to confirm, and saving
    the field clears it.
    """

    name: Annotated[str, AfterValidator(_clean)]
    description: Annotated[str, AfterValidator(_clean)] = ""
    kind: Annotated[FieldKind, BeforeValidator(_legacy_kind)] = "text"
    kind_inferred: bool = False
    said_by: SaidBy = "either"
    cues: list[Phrase] = Field(default_factory=list, max_length=20)
    choices: list[Choice] = Field(default_factory=list, max_length=50)
    examples: list[Sentence] = Field(default_factory=list, max_length=10)
    length: int | None = Field(default=None, ge=1, le=40)
    shape: str | None = Field(default=None, description="A letter, 9 a digit, e.g. AA-9999")

    @field_validator("shape")
    @classmethod
    def _shape(cls, value: str | None) -> str | None:
        if value is not None and not _SHAPE.match(value):
            raise ValueError("shape must use A (a letter), 9 (a digit), space, '-', '/' or '.'")
        return value

    @field_validator("examples")
    @classmethod
    def _marked(cls, value: list[str]) -> list[str]:
        for sentence in value:
            if len(_MARKED.findall(sentence)) != 1:
                raise ValueError(f"example {sentence!r} must mark its value once, in [brackets]")
        return value

    @model_validator(mode="after")
    def _choices_need_choice(self) -> FieldSpec:
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"field {self.name!r}: kind choice needs its choices")
        return self

    def marked_examples(self) -> list[tuple[str, str]]:
        """Each example as (the sentence without brackets, the marked value)."""
        out = []
        for sentence in self.examples:
            m = _MARKED.search(sentence)
            if m:
                out.append((_MARKED.sub(r"\1", sentence), m.group(1)))
        return out
