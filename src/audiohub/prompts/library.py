"""The default domain/category library that ships inside the package (library.yaml)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from audiohub.domain import CategorySpec, FieldSpec

FALLBACK_DOMAIN = "general"
FALLBACK_CATEGORY = "general_inquiry"


@lru_cache(maxsize=1)
def _raw() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(
        resources.files("audiohub.prompts").joinpath("library.yaml").read_text("utf-8"))
    return raw


def default_prompt(domain: str, category: str) -> str:
    """The library's prompt template (`defaults.prompt`) written out for the pair: the prompt of
    every library pair, and of a new pair created without one."""
    template: str = _raw()["defaults"]["prompt"]
    return template.format(domain=domain, category=category).strip()


@lru_cache(maxsize=1)
def load_library() -> tuple[CategorySpec, ...]:
    """Every library category plus the general/general_inquiry fallback, as version 1 specs."""
    raw = _raw()
    entries = [*raw["categories"], raw["fallback"]]
    return tuple(
        CategorySpec(
            domain=e["domain"],
            category=e["category"],
            description=" ".join(e["description"].split()),
            prompt=default_prompt(e["domain"], e["category"]),
            fields=[_field(k, v) for k, v in e["fields"].items()],
            examples=e.get("examples", []),
            keyterms=e.get("keyterms", []),
        )
        for e in entries
    )


def _field(name: str, entry: str | dict[str, Any]) -> FieldSpec:
    """A field written as its description alone, or as a mapping of the spec's attributes."""
    if isinstance(entry, str):
        return FieldSpec(name=name, description=entry)
    return FieldSpec(name=name, **entry)


def fallback_spec() -> CategorySpec:
    """general/general_inquiry: the schema used for a pair nobody wrote a prompt for."""
    return next(s for s in load_library()
                if (s.domain, s.category) == (FALLBACK_DOMAIN, FALLBACK_CATEGORY))


def library_spec(domain: str, category: str) -> CategorySpec:
    """The shipped library's spec of the pair, or the fallback's for a pair it does not have."""
    found = [s for s in load_library() if (s.domain, s.category) == (domain, category)]
    return found[0] if found else fallback_spec()
