"""The prompt service's wire format, as the seed documents it."""

from __future__ import annotations

from pydantic import BaseModel, Field

from audiohub.domain import CategorySpec

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

    @classmethod
    def of(cls, domain: str, category: str, spec: CategorySpec | None) -> PromptResponse:
        return cls(domain=domain, category=category,
                   custom_prompt=spec.prompt if spec else None, spec=spec,
                   generated=spec is not None and spec.source == "generated")


class DomainsResponse(BaseModel):
    domains: dict[str, list[str]]
