"""All SQL for prompts lives here."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from audiohub.domain import CategorySpec, FieldSpec
from audiohub.prompts.models import PromptRow

_WRITE_LOCK = 0x50524F4D  # any fixed 64-bit key; "PROM"


def _to_spec(row: PromptRow) -> CategorySpec:
    return CategorySpec(
        domain=row.domain,
        category=row.category,
        description=row.description,
        prompt=row.prompt,
        fields=[FieldSpec(**f) for f in row.fields],
        examples=list(row.examples or []),
        keyterms=list(row.keyterms or []),
        version=row.version,
        source=row.source,  # type: ignore[arg-type]
    )


class PromptRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def latest(self, domain: str, category: str) -> CategorySpec | None:
        row = self.session.scalars(
            select(PromptRow)
            .where(PromptRow.domain == domain, PromptRow.category == category)
            .order_by(PromptRow.version.desc())
            .limit(1)
        ).first()
        return None if row is None else _to_spec(row)

    def versions(self, domain: str, category: str) -> list[CategorySpec]:
        """Every version of the pair, newest first."""
        rows = self.session.scalars(
            select(PromptRow)
            .where(PromptRow.domain == domain, PromptRow.category == category)
            .order_by(PromptRow.version.desc())
        )
        return [_to_spec(r) for r in rows]

    def all_latest(self) -> list[CategorySpec]:
        newest = (
            select(PromptRow.domain, PromptRow.category,
                   func.max(PromptRow.version).label("version"))
            .group_by(PromptRow.domain, PromptRow.category)
            .subquery()
        )
        rows = self.session.scalars(
            select(PromptRow)
            .join(newest, (PromptRow.domain == newest.c.domain)
                  & (PromptRow.category == newest.c.category)
                  & (PromptRow.version == newest.c.version))
            .order_by(PromptRow.id)
        )
        return [_to_spec(r) for r in rows]

    def add_version(self, spec: CategorySpec) -> CategorySpec:
        current = self.session.scalar(
            select(func.max(PromptRow.version))
            .where(PromptRow.domain == spec.domain, PromptRow.category == spec.category)
        )
        version = (current or 0) + 1
        self.session.add(PromptRow(
            domain=spec.domain, category=spec.category, version=version,
            description=spec.description, prompt=spec.prompt,
            fields=[f.model_dump() for f in spec.fields], json_schema=spec.json_schema(),
            examples=spec.examples, keyterms=spec.keyterms,
            source=spec.source,
        ))
        self.session.flush()
        return spec.model_copy(update={"version": version})

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(PromptRow)) or 0

    def lock_for_writing(self) -> None:
        """Serialise writers of the prompt table until this transaction ends, before they read
        what to write: two prompt-service replicas seeding the library, or generating the same
        new pair, at once must not both add version 1 of a pair."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _WRITE_LOCK})
        else:  # SQLite: a write, even of no row, takes the database's one write lock now
            self.session.execute(text("UPDATE prompts SET version = version WHERE 0"))
