"""`audiohub export`: stored calls as CSV (a field.<name> column per field) or JSON lines, on a
real database, from calls the real pipeline analysed and from calls with awkward values."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audiohub.cli import app
from audiohub.persistence.audio_store import AudioStore, sha256_file
from audiohub.persistence.db import Database, migrate
from audiohub.persistence.export import COLUMNS, ExportFormat, export_calls
from audiohub.persistence.service import SqlStore
from tests.conftest import AUDIO, make_settings
from tests.persistence.test_store import WAV, make_record

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> SqlStore:
    db = Database(make_settings(tmp_path, database_url).database_url)
    migrate(db.engine)
    return SqlStore(db, AudioStore(tmp_path / "audio"))


def export(store: SqlStore, fmt: ExportFormat, since: datetime | None = None) -> str:
    out = io.StringIO(newline="")
    export_calls(store, fmt, since, out)
    return out.getvalue()


def test_csv_has_a_column_per_field_seen_and_survives_awkward_values(store: SqlStore) -> None:
    sha = sha256_file(WAV)
    first = make_record(sha)
    first.extraction.domain_specific_data = {
        "customer_name": 'Zoë "Jr" Müller, Ph.D.', "card_last_four": "4567",
        "reason": "lost\non the train"}
    second = make_record(sha, domain="ecommerce")
    second.extraction.domain_specific_data = {"order_id": "A-1", "customer_name": None}
    ids = [store.save(first, WAV), store.save(second, WAV)]
    text = export(store, "csv")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    header = next(csv.reader(io.StringIO(text, newline="")))
    assert header == [*COLUMNS, "field.customer_name", "field.card_last_four", "field.reason",
                      "field.order_id"]
    assert [int(r["id"]) for r in rows] == ids
    assert rows[0]["field.customer_name"] == 'Zoë "Jr" Müller, Ph.D.'
    assert rows[0]["field.reason"] == "lost\non the train"
    assert rows[0]["field.order_id"] == ""
    assert rows[1]["field.order_id"] == "A-1" and rows[1]["field.customer_name"] == ""
    assert rows[0]["domain"] == "banking" and rows[1]["domain"] == "ecommerce"
    assert rows[0]["needs_review"] == "false" and rows[0]["call_outcome"] == "resolved"
    assert rows[0]["summary"] == "My card 4567." and float(rows[0]["sentiment"]) == -0.5
    assert datetime.fromisoformat(rows[0]["created_at"]).tzinfo is not None

    lines = export(store, "jsonl").splitlines()
    objs = [json.loads(line) for line in lines]
    assert [o["id"] for o in objs] == ids
    assert objs[0]["fields"] == first.extraction.domain_specific_data
    assert objs[1]["fields"] == {"order_id": "A-1", "customer_name": None}
    assert set(objs[0]) == {*COLUMNS, "fields"}


def test_since_selects_by_creation_time(store: SqlStore) -> None:
    store.save(make_record(sha256_file(WAV)), WAV)
    now = datetime.now(UTC)
    assert len(export(store, "jsonl", now - timedelta(minutes=5)).splitlines()) == 1
    assert export(store, "jsonl", now + timedelta(minutes=5)) == ""
    # A naive time is UTC; an aware one is converted.
    assert export(store, "jsonl", (now + timedelta(minutes=5)).replace(tzinfo=None)) == ""
    local = (now - timedelta(minutes=5)).astimezone(
        datetime.now().astimezone().tzinfo)
    assert len(export(store, "jsonl", local).splitlines()) == 1
    only_header = export(store, "csv", now + timedelta(days=1))
    assert list(csv.reader(io.StringIO(only_header, newline=""))) == [list(COLUMNS)]


def test_export_command_on_calls_the_pipeline_stored(data_dir: Path, tmp_path: Path) -> None:
    files = [AUDIO / "banking_card_block_16k.wav", AUDIO / "ecommerce_refund_16k.wav"]
    r = runner.invoke(app, ["analyze", *map(str, files), "--json"])
    assert r.exit_code == 0, r.output
    results = [json.loads(chunk) for chunk in r.stdout.replace("}\n{", "}\x00{").split("\x00")]

    r = runner.invoke(app, ["export", "--format", "csv"])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout, newline="")))
    assert len(rows) == 2
    for row, result in zip(rows, results, strict=True):
        assert int(row["id"]) == result["database"]["call_id"]
        assert row["domain"] == result["domain"] and row["category"] == result["category"]
        assert row["summary"] == result["general_metrics"]["summary"]
        for name, value in result["domain_specific_data"].items():
            assert row[f"field.{name}"] == (value or "")
    assert "exported 2 calls" in r.stderr

    out = tmp_path / "calls.jsonl"
    r = runner.invoke(app, ["export", "--format", "jsonl", "--out", str(out),
                            "--since", "2000-01-01"])
    assert r.exit_code == 0, r.output
    objs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [o["fields"] for o in objs] == [x["domain_specific_data"] for x in results]

    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    r = runner.invoke(app, ["export", "--format", "jsonl", "--since", future])
    assert r.exit_code == 0 and r.stdout == ""
    r = runner.invoke(app, ["export", "--since", future])
    assert r.exit_code == 0 and r.stdout.splitlines() == [",".join(COLUMNS)]

    r = runner.invoke(app, ["export", "--since", "last tuesday"])
    assert r.exit_code == 2 and "ISO" in r.output
    r = runner.invoke(app, ["export", "--format", "xlsx"])
    assert r.exit_code == 2
