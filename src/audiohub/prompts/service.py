"""The prompt stage: the library seeded on first start, versioned rows, lookups."""

from __future__ import annotations

from audiohub.domain import CategorySpec
from audiohub.errors import ConflictError
from audiohub.persistence.db import Database
from audiohub.prompts.library import load_library
from audiohub.prompts.repository import PromptRepository


class SqlPromptStore:
    """`PromptStore` on the hub's database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def seed(self) -> int:
        """Add the shipped library's pairs that the database does not know yet, and a new
        version of each pair still as an older release shipped it.

        A pair a person edited or approved, or an LLM generated, is left alone: a restart or
        an upgrade never overwrites it. Returns how many versions were added.
        """
        added = 0
        with self.db.session() as session:
            repo = PromptRepository(session)
            repo.lock_for_writing()
            for spec in load_library():
                stored = repo.latest(spec.domain, spec.category)
                if stored is None or (stored.source == "library" and _content(stored) != (
                        _content(spec))):
                    repo.add_version(spec)
                    added += 1
        return added

    def get(self, domain: str, category: str) -> CategorySpec | None:
        with self.db.session() as session:
            return PromptRepository(session).latest(domain, category)

    def all(self) -> list[CategorySpec]:
        with self.db.session() as session:
            return PromptRepository(session).all_latest()

    def history(self, domain: str, category: str) -> list[CategorySpec]:
        with self.db.session() as session:
            return PromptRepository(session).versions(domain, category)

    def save(self, spec: CategorySpec) -> CategorySpec:
        with self.db.session() as session:
            repo = PromptRepository(session)
            repo.lock_for_writing()
            # A generated prompt only ever starts a pair. Two prompt-service replicas that both
            # met the same new pair both generate one; the second finds the first's stored.
            if spec.source == "generated" and (
                    first := repo.latest(spec.domain, spec.category)) is not None:
                return first
            return repo.add_version(spec)

    def create(self, spec: CategorySpec) -> CategorySpec:
        with self.db.session() as session:
            repo = PromptRepository(session)
            # Under the write lock: two requests creating the same pair at once add one.
            repo.lock_for_writing()
            if (stored := repo.latest(spec.domain, spec.category)) is not None:
                raise ConflictError(pair_exists(stored))
            return repo.add_version(spec)

    def domains(self) -> dict[str, list[str]]:
        """Each domain with its categories, for the seed's GET /domains."""
        out: dict[str, list[str]] = {}
        for spec in self.all():
            out.setdefault(spec.domain, []).append(spec.category)
        return out

    def health(self) -> str:
        with self.db.session() as session:
            return f"{PromptRepository(session).count()} prompt versions"


def pair_exists(stored: CategorySpec) -> str:
    """What a 409 for creating an existing pair says: how to change it instead."""
    pair = f"{stored.domain}/{stored.category}"
    return (f"{pair} exists (version {stored.version}, {stored.source}); add a version instead "
            f"with POST /prompts/{pair} on the prompt service, POST /api/prompts/{pair} on the "
            f"gateway, or the dashboard's editor at /ui/prompts/{pair}")


def _content(spec: CategorySpec) -> tuple[object, ...]:
    """What a version says (not its number or source)."""
    return (spec.description, spec.prompt, [f.model_dump() for f in spec.fields], spec.examples,
            spec.keyterms)
