"""The prompt service's wire format, as the seed documents it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from audiohub.domain import CategorySpec, CleanStr, FieldSpec, clean_text
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


class PromptEdit(BaseModel):
    """A person's new version of an existing pair: "edited" for changed content, "approved" for
    a generated version accepted as it is. Saving it adds a version; older ones are kept."""

    model_config = ConfigDict(extra="forbid")

    # CleanStr: what is saved must be text PostgreSQL takes (no NUL, no lone surrogate).
    description: CleanStr
    prompt: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1),
                      AfterValidator(clean_text)]
    fields: list[FieldSpec] = Field(min_length=1)
    examples: list[CleanStr]
    # The category's words to expect, for the vocabulary correction pass (absent: none).
    keyterms: Keyterms = Field(default_factory=list)
    source: Literal["edited", "approved"] = "edited"

    @field_validator("fields")
    @classmethod
    def _usable_names(cls, fields: list[FieldSpec]) -> list[FieldSpec]:
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
