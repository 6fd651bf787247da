"""The prompt store contract: versioned prompts and field schemas per domain/category."""

from __future__ import annotations

from typing import Protocol

from audiohub.domain import CategorySpec


class PromptStore(Protocol):
    """Keeps every version of every domain/category's prompt; readers get the latest."""

    def get(self, domain: str, category: str) -> CategorySpec | None:
        """The latest version of the pair, or None if the pair is unknown."""
        ...

    def all(self) -> list[CategorySpec]:
        """The latest version of every pair."""
        ...

    def history(self, domain: str, category: str) -> list[CategorySpec]:
        """Every version of the pair, newest first; [] if the pair is unknown."""
        ...

    def save(self, spec: CategorySpec) -> CategorySpec:
        """Store `spec` as the pair's next version and return it with that version."""
        ...

    def create(self, spec: CategorySpec) -> CategorySpec:
        """Store `spec` as version 1 of a pair the store does not have yet.

        Raises:
            ConflictError: the pair exists (a new version is added with `save`).
        """
        ...
