"""A category's keyterms (CategorySpec.keyterms): read from library.yaml, seeded, stored with each
version, changed by an edit, and brought to a database seeded before they existed (migration
0009, then the next start's seed adds the library's new version of the pairs that have terms)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import inspect, text

from audiohub.persistence.db import Database, migrate
from audiohub.prompts.library import library_spec
from audiohub.prompts.schemas import PromptEdit
from audiohub.prompts.service import SqlPromptStore
from tests.conftest import alembic, make_settings


@pytest.fixture
def db(tmp_path: Path, database_url: str | None) -> Database:
    db = Database(make_settings(tmp_path, database_url).database_url)
    migrate(db.engine)
    return db


def test_the_library_gives_pharmacy_calls_drug_names_and_others_none() -> None:
    refill = library_spec("healthcare", "prescription_refill").keyterms
    assert {"Metformin", "Atorvastatin", "Lisinopril"} <= set(refill)
    assert library_spec("banking", "card_block").keyterms == []


def test_keyterms_are_seeded_stored_and_edited(db: Database) -> None:
    store = SqlPromptStore(db)
    store.seed()
    refill = store.get("healthcare", "prescription_refill")
    assert refill is not None and refill.keyterms == library_spec(
        "healthcare", "prescription_refill").keyterms
    edit = PromptEdit.of(refill, source="edited").model_copy(
        update={"keyterms": ["Metformin", "Eliquis"]})
    saved = store.save(edit.spec("healthcare", "prescription_refill"))
    assert store.history("healthcare", "prescription_refill")[0].keyterms == [
        "Metformin", "Eliquis"]
    assert saved.version == 2
    assert PromptEdit.of(saved).keyterms == ["Metformin", "Eliquis"]  # an approval keeps them
    with pytest.raises(ValidationError, match="longer than 50 characters"):
        PromptEdit.model_validate({**edit.model_dump(), "keyterms": ["x" * 51]})
    cleaned = PromptEdit.model_validate({**edit.model_dump(), "keyterms": [" a  b ", "A B", ""]})
    assert cleaned.keyterms == ["a b"]


def test_a_store_from_before_keyterms_gets_the_librarys_on_the_next_start(db: Database) -> None:
    store = SqlPromptStore(db)
    store.seed()
    # As a release before 0009 left it: no column, then the column empty on every row.
    alembic(db.engine, "downgrade", "0008")
    assert "keyterms" not in {c["name"] for c in inspect(db.engine).get_columns("prompts")}
    assert "options" not in {c["name"] for c in inspect(db.engine).get_columns("jobs")}
    alembic(db.engine, "upgrade", "head")
    with db.engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM prompts WHERE keyterms IS NOT NULL")
                            ).scalar_one() == 0
    assert store.get("healthcare", "prescription_refill").keyterms == []  # type: ignore[union-attr]
    # Only the pairs whose library entry has terms get a new version; the rest are unchanged.
    assert store.seed() == 1
    refill = store.get("healthcare", "prescription_refill")
    assert refill is not None and (refill.version, refill.source) == (2, "library")
    assert "Metformin" in refill.keyterms
    assert store.get("banking", "card_block").version == 1  # type: ignore[union-attr]
