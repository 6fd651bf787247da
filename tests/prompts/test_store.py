"""The prompt store on a real database: seeded once, versioned, latest wins."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from audiohub.domain import FieldSpec
from audiohub.persistence.db import Database, migrate
from audiohub.prompts.library import load_library
from audiohub.prompts.service import SqlPromptStore
from tests.conftest import make_settings

TAXONOMY_FIELDS = {
    ("healthcare", "appointment_scheduling"): ["patient_name", "doctor_name", "appointment_date",
                                               "appointment_time", "reason"],
    ("healthcare", "prescription_refill"): ["patient_name", "medication", "pharmacy",
                                            "date_of_birth"],
    ("banking", "card_block"): ["customer_name", "card_last_four", "reason"],
    ("banking", "fraud_report"): ["customer_name", "transaction_amount", "merchant",
                                  "transaction_date"],
    ("insurance", "claim_filing"): ["policy_number", "incident_date", "incident_type"],
    ("insurance", "policy_inquiry"): ["policy_number", "question"],
    ("telecom", "technical_support"): ["account_number", "issue_description", "device"],
    ("telecom", "billing_dispute"): ["account_number", "disputed_amount", "billing_month"],
    ("ecommerce", "order_status"): ["order_number", "item"],
    ("ecommerce", "refund_request"): ["order_number", "item", "refund_amount", "reason"],
    ("travel", "booking_change"): ["booking_reference", "destination", "original_date",
                                   "new_date"],
    ("travel", "reservation_cancellation"): ["reservation_type", "reservation_date",
                                             "guest_name"],
    ("utilities", "billing_inquiry"): ["account_number", "billing_month", "amount"],
    ("utilities", "service_connection"): ["customer_name", "service_address", "start_date"],
}


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> SqlPromptStore:
    db = Database(make_settings(tmp_path, database_url).database_url)
    migrate(db.engine)
    return SqlPromptStore(db)


def test_library_has_exactly_the_taxonomy_fields() -> None:
    got = {(s.domain, s.category): [f.name for f in s.fields] for s in load_library()}
    assert got.pop(("general", "general_inquiry")) == ["topic"]
    assert got == TAXONOMY_FIELDS


def test_seed_on_first_start_only(store: SqlPromptStore) -> None:
    assert store.seed() == 15
    assert store.seed() == 0
    specs = store.all()
    assert len(specs) == 15
    assert all(s.version == 1 and s.source == "library" for s in specs)
    assert store.domains()["banking"] == ["card_block", "fraud_report"]
    spec = store.get("banking", "card_block")
    assert spec is not None
    schema = spec.json_schema()
    assert schema["required"] == ["customer_name", "card_last_four", "reason"]
    assert schema["additionalProperties"] is False
    assert "banking" in spec.prompt
    assert len(spec.examples) == 4  # stored with the prompt, used by the local classifier
    assert store.get("banking", "mortgage") is None


def test_saving_adds_a_version_and_reads_return_the_latest(store: SqlPromptStore) -> None:
    store.seed()
    spec = store.get("banking", "card_block")
    assert spec is not None
    edited = spec.model_copy(update={"prompt": "Edited prompt", "source": "edited",
                                     "fields": [*spec.fields, FieldSpec(name="branch")]})
    saved = store.save(edited)
    assert saved.version == 2
    latest = store.get("banking", "card_block")
    assert latest is not None and latest.prompt == "Edited prompt" and latest.version == 2
    assert len(store.all()) == 15
    # The older version is kept, and a restart does not overwrite the edit.
    assert store.seed() == 0
    with store.db.engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM prompts WHERE category='card_block'")).scalar()
    assert n == 2


def test_an_upgraded_library_updates_the_pairs_nobody_edited(
    store: SqlPromptStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.seed()
    spec = store.get("banking", "card_block")
    assert spec is not None
    store.save(spec.model_copy(update={"prompt": "Ours", "source": "edited"}))
    # A newer release ships new example sentences for every pair.
    shipped = [s.model_copy(update={"examples": [*s.examples, "A new example."]})
               for s in load_library()]
    monkeypatch.setattr("audiohub.prompts.service.load_library", lambda: shipped)
    assert store.seed() == 14  # every pair but the edited one
    fraud = store.get("banking", "fraud_report")
    assert fraud is not None and fraud.version == 2 and fraud.source == "library"
    assert fraud.examples[-1] == "A new example."
    edited = store.get("banking", "card_block")
    assert edited is not None and edited.prompt == "Ours" and edited.version == 2
    assert store.seed() == 0  # nothing new the second time


@pytest.mark.postgres
def test_services_starting_at_once_migrate_and_seed_one_postgres_once(pg_url: str) -> None:
    """The prompt and persistence services (and prompt replicas) start together in compose and
    Kubernetes: each migrates and seeds the same database, and the advisory locks make the
    second wait for the first instead of failing or adding every pair twice."""
    url = "postgresql+psycopg://" + pg_url.removeprefix("postgresql://")
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def start() -> None:
        try:
            db = Database(url)
            barrier.wait()
            migrate(db.engine)
            SqlPromptStore(db).seed()
            db.engine.dispose()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    db = Database(url)
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM prompts")).scalar_one()
        per_pair = conn.execute(text(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM prompts GROUP BY domain, category) x"
        )).scalar_one()
    assert rows == len(load_library())
    assert per_pair == 1
