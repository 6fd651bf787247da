"""The prompt service's wire format, as the seed documents it."""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

from fastapi import Body
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

from audiohub.api_docs import NEW_PAIR_EXAMPLES
from audiohub.domain import CategorySpec, CleanStr, FieldSpec, clean_text
from audiohub.fieldspec import FieldKind
from audiohub.llm.schemas import Name
from audiohub.transcription.schemas import Keyterms

_NAME = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")


class PairRequest(BaseModel):
    domain: str = _NAME
    category: str = _NAME


class PromptResponse(BaseModel):
    """`custom_prompt` is the seed's field: the pair's prompt, or null for an unknown pair.
    `spec` carries the field schema the extraction stage fills."""

    domain: str
    category: str
    custom_prompt: str | None
    spec: CategorySpec | None = None
    # Written by an LLM for a pair the library lacked, not reviewed by a person yet.
    generated: bool = False
    reason_code: str | None = Field(default=None, description=(
        "Why `custom_prompt` is null: local_analyzer (ANALYZER=local writes no prompts), "
        "invalid_name, invalid_output (the LLM's answer was not a valid prompt, even "
        "re-asked), llm_timeout, llm_unavailable. The call then uses the general fallback's "
        "fields."))
    reason: str | None = Field(default=None, description="The same, in words: what failed.")

    @classmethod
    def of(cls, domain: str, category: str, spec: CategorySpec | None, *,
           reason_code: str | None = None, reason: str | None = None) -> PromptResponse:
        return cls(domain=domain, category=category,
                   custom_prompt=spec.prompt if spec else None, spec=spec,
                   generated=spec is not None and spec.source == "generated",
                   reason_code=reason_code, reason=reason)


class DomainsResponse(BaseModel):
    domains: dict[str, list[str]]


# The rule an LLM-written field name follows: a lower-case identifier, so every analyzer can use
# it as a key of the JSON it asks for.
_FIELD_NAME: TypeAdapter[str] = TypeAdapter(Name)
F = TypeVar("F", bound=FieldSpec)


def usable_fields(fields: list[F]) -> list[F]:
    """Fields whose names every analyzer can use: lower-case identifiers, none reserved, none
    twice. The one check of field names, for edits, new pairs and the dashboard's forms."""
    seen: set[str] = set()
    for f in fields:
        try:
            _FIELD_NAME.validate_python(f.name)
        except ValidationError as exc:
            msg = exc.errors()[0]["msg"]
            raise ValueError(f"field name {f.name!r} is not usable: {msg}") from None
        # The LLM analyzers build a pydantic model with one attribute per field.
        if hasattr(BaseModel, f.name):
            raise ValueError(f"field name {f.name!r} is reserved; choose another")
        if f.name in seen:
            raise ValueError(f"field name {f.name!r} appears twice; names must be unique")
        seen.add(f.name)
    return fields


# CleanStr: what is saved must be text PostgreSQL takes (no NUL, no lone surrogate).
PromptText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1),
                       AfterValidator(clean_text)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                               max_length=2000), AfterValidator(clean_text)]


class PromptEdit(BaseModel):
    """A person's new version of an existing pair: "edited" for changed content, "approved" for
    a generated version accepted as it is. Saving it adds a version; older ones are kept."""

    model_config = ConfigDict(extra="forbid")

    description: CleanStr
    prompt: PromptText
    fields: Annotated[list[FieldSpec], Field(min_length=1), AfterValidator(usable_fields)]
    examples: list[CleanStr]
    # The category's words to expect, for the vocabulary correction pass (absent: none).
    keyterms: Keyterms = Field(default_factory=list)
    source: Literal["edited", "approved"] = "edited"

    @classmethod
    def of(cls, spec: CategorySpec,
           source: Literal["edited", "approved"] = "approved") -> PromptEdit:
        """The spec's content unchanged: approving it saves this as the pair's next version."""
        return cls(description=spec.description, prompt=spec.prompt, fields=spec.fields,
                   examples=spec.examples, keyterms=spec.keyterms, source=source)

    def spec(self, domain: str, category: str) -> CategorySpec:
        """The pair's new version (the store assigns its number)."""
        return CategorySpec(domain=domain, category=category, description=self.description,
                            prompt=self.prompt, fields=self.fields, examples=self.examples,
                            keyterms=self.keyterms, source=self.source)


class NewField(FieldSpec):
    """A field of a new pair as a person writes it: its kind said, not guessed."""

    model_config = ConfigDict(extra="forbid")

    kind: FieldKind = Field(description="What the value is: one of the 15 field kinds.")
    # A person wrote this kind: a new pair's fields are never guesses.
    kind_inferred: Literal[False] = False

    def spec(self) -> FieldSpec:
        return FieldSpec.model_validate(self.model_dump())


class PromptCreate(PairRequest):
    """A new domain/category pair (POST /prompts, POST /api/prompts): stored as version 1, used
    by the next call. `prompt` defaults to the library's template for the pair."""

    model_config = ConfigDict(extra="forbid")

    description: Description = Field(description=(
        "What such calls are about, in the words callers use: the local classifier compares "
        "calls to it."))
    prompt: PromptText | None = Field(default=None, description=(
        "The LLM analyzers' extraction prompt; absent, the library's default for the pair."))
    fields: Annotated[list[NewField], Field(min_length=1, max_length=50),
                      AfterValidator(usable_fields)]
    examples: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                    max_length=300), AfterValidator(clean_text)]
                   ] = Field(default_factory=list, max_length=50, description=(
                       "Sentences callers say in such calls (the classifier compares them)."))
    keyterms: Keyterms = Field(default_factory=list)

    def spec(self, default_prompt: str) -> CategorySpec:
        """The pair's version 1, written by a person (`source: "edited"`)."""
        return CategorySpec(domain=self.domain, category=self.category,
                            description=self.description, prompt=self.prompt or default_prompt,
                            fields=[f.spec() for f in self.fields], examples=self.examples,
                            keyterms=self.keyterms, source="edited")


# The body of the create routes, with the docs' example.
NewPair = Annotated[PromptCreate, Body(openapi_examples=NEW_PAIR_EXAMPLES)]
