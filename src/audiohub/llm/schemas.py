"""Pydantic models of what an LLM must answer, built from the category's field schema: every
string bounded, no extra keys, so an answer either fits or is repaired or marked partial."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from audiohub.domain import CategorySpec

FIELD_MAX = 200
_STRICT = ConfigDict(extra="forbid")

Short = Annotated[str, Field(max_length=80)]
Sentence = Annotated[str, Field(max_length=240)]
Name = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$")]


class GeneralAnalysis(BaseModel):
    """The seed's general metrics an LLM writes (timing metrics come from the word timestamps)."""

    model_config = _STRICT

    summary: str = Field(max_length=600, description="1-3 sentences on what the call was about.")
    sentiment_label: Literal["positive", "neutral", "negative"]
    sentiment_score: float = Field(ge=-1, le=1, description="-1 very negative .. 1 very positive")
    call_outcome: Literal["resolved", "unresolved", "follow_up_required", "transferred"]
    key_topics: list[Short] = Field(max_length=8)
    action_items: list[Sentence] = Field(max_length=8)
    pii_detected: list[Short] = Field(
        max_length=10, description="types of personal data said, e.g. person_name, card_number")


class ClassificationAnswer(BaseModel):
    model_config = _STRICT

    domain: Name
    category: Name
    confidence: float = Field(ge=0, le=1)


class GeneratedField(BaseModel):
    model_config = _STRICT

    name: Name
    description: Sentence
    # Loose on purpose: a kind or hint that is not one of ours is inferred or dropped by
    # prompts/generation.written_field for a person to confirm; it does not fail the answer.
    kind: str | None = Field(default=None, max_length=40, description=(
        "one of: person, organization, place, address, code, digits, money, date, time, phone, "
        "email, quantity, choice, yes_no, text"))
    said_by: str | None = Field(default=None, max_length=40,
                                description="who says the value: agent, customer or either")
    cues: list[str] = Field(default_factory=list, max_length=5,
                            description="short phrases that introduce the value in a call")
    choices: list[str] = Field(default_factory=list, max_length=12,
                               description="the listed values of a choice field")


class GeneratedSpec(BaseModel):
    """A prompt and field schema an LLM writes for a domain/category the library lacks."""

    model_config = _STRICT

    description: str = Field(max_length=400)
    prompt: str = Field(max_length=1500)
    fields: list[GeneratedField] = Field(min_length=1, max_length=8)


def fields_model(spec: CategorySpec) -> type[BaseModel]:
    """One optional, bounded string per field of the category, nothing else."""
    definitions: dict[str, Any] = {
        f.name: (str | None, Field(default=None, max_length=FIELD_MAX, description=f.description))
        for f in spec.fields
    }
    return create_model(
        f"{spec.domain}_{spec.category}_fields", __config__=_STRICT, **definitions)


def combined_model(spec: CategorySpec) -> type[BaseModel]:
    """The seed's stage-2 answer: the category's fields and the general analysis, in one call."""
    return create_model(
        f"{spec.domain}_{spec.category}_analysis", __config__=_STRICT,
        fields=(fields_model(spec), ...), general=(GeneralAnalysis, ...))
