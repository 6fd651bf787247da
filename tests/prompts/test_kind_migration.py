"""Migration 0010 on real SQLite and PostgreSQL: prompt rows stored before fields had kinds get one
guessed once (`kind_inferred: true`, for a person to confirm), a library row takes the shipped
library's kind, a kind a person chose is kept, and what is stored reads back as specs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from audiohub.domain import CategorySpec, FieldSpec
from audiohub.persistence.db import Database, migrate
from audiohub.prompts.library import library_spec
from audiohub.prompts.service import SqlPromptStore
from tests.conftest import alembic, make_settings

_PROMPTS = sa.table("prompts", sa.column("id", sa.Integer), sa.column("domain", sa.String),
                    sa.column("category", sa.String), sa.column("version", sa.Integer),
                    sa.column("fields", sa.JSON))
# Fields as a release before kinds stored them: the old default kind, none, legacy ones, one a
# person typed in the old editor that is a kind now, and one that is not.
OLD_FIELDS: list[dict[str, Any]] = [
    {"name": "pickup_date", "description": "when the parcel is collected", "kind": "text"},
    {"name": "bag_tag", "description": "the luggage label", "kind": "id"},
    {"name": "renewal_month", "description": "the month it renews", "kind": "month"},
    {"name": "arrival", "description": "when they land", "kind": "date"},
    {"name": "favourite_colour", "description": "a colour they like", "kind": "fancy"},
    {"name": "sender_name", "description": "who sent it"},
]


@pytest.fixture
def db(tmp_path: Path, database_url: str | None) -> Database:
    db = Database(make_settings(tmp_path, database_url).database_url)
    migrate(db.engine)
    return db


def _fields(db: Database, domain: str, category: str, version: int) -> list[dict[str, Any]]:
    with db.engine.connect() as conn:
        stored: list[dict[str, Any]] = conn.execute(
            sa.select(_PROMPTS.c.fields).where(
                _PROMPTS.c.domain == domain, _PROMPTS.c.category == category,
                _PROMPTS.c.version == version)).scalar_one()
    return stored


def _store_old(db: Database, domain: str, category: str, version: int,
               fields: list[dict[str, Any]]) -> None:
    with db.engine.begin() as conn:
        conn.execute(_PROMPTS.update().where(
            _PROMPTS.c.domain == domain, _PROMPTS.c.category == category,
            _PROMPTS.c.version == version).values(fields=fields))


def test_old_rows_get_a_kind_once_marked_for_a_person_to_confirm(db: Database) -> None:
    store = SqlPromptStore(db)
    store.seed()
    library = library_spec("banking", "card_block")
    store.save(CategorySpec(domain="shipping", category="parcel_pickup", description="d",
                            prompt="p", fields=[FieldSpec(name="x")], source="edited"))
    store.save(library.model_copy(update={"source": "edited"}))  # card_block v2, a person's
    alembic(db.engine, "downgrade", "0009")
    # As 0009's code stored them: a field was its name, description and a free-text kind.
    _store_old(db, "shipping", "parcel_pickup", 1, OLD_FIELDS)
    old_library = [{"name": f.name, "description": f.description, "kind": "text"}
                   for f in library.fields]
    _store_old(db, "banking", "card_block", 1, old_library)
    _store_old(db, "banking", "card_block", 2, [*old_library, OLD_FIELDS[0]])

    alembic(db.engine, "upgrade", "head")

    kinds = {f["name"]: (f["kind"], f["kind_inferred"])
             for f in _fields(db, "shipping", "parcel_pickup", 1)}
    assert kinds == {
        "pickup_date": ("date", True),         # guessed from the name
        "bag_tag": ("code", True),             # a legacy "id" where the name says nothing
        "renewal_month": ("date", True),
        "arrival": ("date", False),            # a person's kind that is a kind now: kept
        "favourite_colour": ("text", True),    # "fancy" is no kind
        "sender_name": ("person", True),       # no kind at all
    }
    # The library's own row takes the shipped kinds as facts; a person's version of the pair
    # gets them too, but as guesses for that person to confirm.
    shipped = {f.name: f.kind for f in library.fields}
    assert {f["name"]: (f["kind"], f["kind_inferred"])
            for f in _fields(db, "banking", "card_block", 1)} == {
        name: (kind, False) for name, kind in shipped.items()}
    edited = {f["name"]: (f["kind"], f["kind_inferred"])
              for f in _fields(db, "banking", "card_block", 2)}
    assert edited == {**{n: (k, True) for n, k in shipped.items()}, "pickup_date": ("date", True)}

    # What is stored reads back as specs, the guesses marked.
    spec = store.get("shipping", "parcel_pickup")
    assert spec is not None
    assert [f.name for f in spec.fields if f.kind_inferred] == [
        "pickup_date", "bag_tag", "renewal_month", "favourite_colour", "sender_name"]


def test_the_guess_is_made_once_and_kept_through_a_downgrade(db: Database) -> None:
    store = SqlPromptStore(db)
    store.seed()
    store.save(CategorySpec(domain="shipping", category="parcel_pickup", description="d",
                            prompt="p", fields=[FieldSpec(name="x")], source="edited"))
    alembic(db.engine, "downgrade", "0009")
    _store_old(db, "shipping", "parcel_pickup", 1, OLD_FIELDS)
    alembic(db.engine, "upgrade", "head")
    first = _fields(db, "shipping", "parcel_pickup", 1)
    # A person confirms one guess (its kind_inferred now false). A downgrade and another
    # upgrade (a rollback of a release, then the release again) neither guess again nor forget
    # the confirmation; the older release reads the rows as they are.
    first[0] = {**first[0], "kind": "time", "kind_inferred": False}
    _store_old(db, "shipping", "parcel_pickup", 1, first)
    alembic(db.engine, "downgrade", "0009")
    assert _fields(db, "shipping", "parcel_pickup", 1) == first
    alembic(db.engine, "upgrade", "head")
    assert _fields(db, "shipping", "parcel_pickup", 1) == first
    assert all(f.kind_inferred == (f.name not in ("pickup_date", "arrival"))
               for f in store.get("shipping", "parcel_pickup").fields)  # type: ignore[union-attr]
