"""Retention on calls dated in the past, on SQLite and PostgreSQL: RETENTION_DAYS deletes whole
calls, AUDIO_RETENTION_DAYS only recordings (a file shared with a newer call stays until that
one expires too), a dry run changes nothing and lists the same, and the server purges at start.
"""

from __future__ import annotations

import getpass
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from audiohub.access.schemas import AuditFilter
from audiohub.access.service import AccessService
from audiohub.cli import app
from audiohub.components import Components
from audiohub.config import AuthSettings, Settings
from audiohub.errors import NotFoundError
from audiohub.gateway.app import create_app
from audiohub.persistence.audio_store import sha256_file
from audiohub.persistence.models import CallRow
from audiohub.persistence.retention import purge
from audiohub.persistence.service import SqlStore
from tests.conftest import AUDIO, make_settings
from tests.keys import authorize
from tests.persistence.test_store import make_record

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
POLICY = AuthSettings(RETENTION_DAYS=90, AUDIO_RETENTION_DAYS=30)


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return make_settings(tmp_path / "data", database_url, auth=POLICY)


@pytest.fixture
def store(settings: Settings) -> Iterator[SqlStore]:
    parts = Components(settings)
    yield parts.store
    parts.close()


def stored(store: SqlStore, name: str, created: datetime) -> int:
    """A call of the fixture `name`, stored as if at `created`."""
    path = AUDIO / name
    record = make_record(sha256_file(path))
    record.filename = name
    call_id = store.save(record, path)
    with store.db.session() as session:
        row = session.get(CallRow, call_id)
        assert row is not None
        row.created_at = created
    return call_id


def on_disk(store: SqlStore, name: str) -> bool:
    return store.files.find(sha256_file(AUDIO / name)) is not None


def purge_rows(store: SqlStore, settings: Settings) -> list[tuple[str, str]]:
    page = AccessService(store.db, settings.auth, settings.data_dir).audit_page(
        AuditFilter(action="purge"))
    return [(e.actor, e.detail) for e in page.items]


def test_old_calls_go_whole_old_recordings_alone(store: SqlStore, settings: Settings) -> None:
    def days_ago(n: int) -> datetime:
        return NOW - timedelta(days=n)

    old = stored(store, "banking_card_block_8k.wav", days_ago(100))
    mid = stored(store, "ecommerce_refund_8k.wav", days_ago(40))
    shared_old = stored(store, "healthcare_appointment_8k.wav", days_ago(40))
    shared_new = stored(store, "healthcare_appointment_8k.wav", days_ago(1))
    new = stored(store, "tone_5s.wav", days_ago(1))

    dry = purge(store, settings, NOW, dry_run=True)
    assert (dry.calls_deleted, dry.audio_removed, dry.files_removed) == ([old],
                                                                         [mid, shared_old], 1)
    for call_id in (old, mid, shared_old, shared_new, new):  # nothing changed
        assert store.get(call_id).audio_removed is False
        store.audio(call_id)
    assert purge_rows(store, settings) == []

    report = purge(store, settings, NOW, actor="cli:tester")
    assert report.model_dump(exclude={"dry_run"}) == dry.model_dump(exclude={"dry_run"})
    with pytest.raises(NotFoundError):
        store.get(old)
    assert not on_disk(store, "banking_card_block_8k.wav")
    for call_id in (mid, shared_old):  # the analysis stays, the recording does not
        assert store.get(call_id).audio_removed is True
        with pytest.raises(NotFoundError, match="removed by the retention policy"):
            store.audio(call_id)
    assert not on_disk(store, "ecommerce_refund_8k.wav")
    assert on_disk(store, "healthcare_appointment_8k.wav")  # shared_new still offers it
    assert store.audio(shared_new)[0].is_file()
    [(actor, detail)] = purge_rows(store, settings)
    assert actor == "cli:tester" and "deleted 1 calls and the recordings of 2 more" in detail

    again = purge(store, settings, NOW)
    assert (again.calls_deleted, again.audio_removed, again.files_removed) == ([], [], 0)
    assert len(purge_rows(store, settings)) == 2  # every real purge leaves its row

    # A month on, the newer twin expires too: now the shared file goes.
    later = purge(store, settings, NOW + timedelta(days=30))
    assert (later.calls_deleted, later.audio_removed, later.files_removed) == (
        [], [shared_new, new], 2)
    assert not on_disk(store, "healthcare_appointment_8k.wav")
    assert not on_disk(store, "tone_5s.wav")
    assert store.get(shared_old).transcription == "My card 4567."


def test_deleting_a_call_ignores_twins_whose_recording_expired(store: SqlStore,
                                                               settings: Settings) -> None:
    """A call that no longer offers its recording does not keep the file alive."""
    expired = stored(store, "tone_5s.wav", NOW - timedelta(days=40))
    purge(store, settings, NOW)
    kept = stored(store, "tone_5s.wav", NOW - timedelta(days=1))
    assert store.get(expired).audio_removed and on_disk(store, "tone_5s.wav")
    assert store.delete(kept).recording_removed is True
    assert not on_disk(store, "tone_5s.wav")


def test_the_server_purges_at_start_and_says_the_recording_was_removed(
        store: SqlStore, settings: Settings) -> None:
    now = datetime.now(UTC)
    old = stored(store, "banking_card_block_8k.wav", now - timedelta(days=100))
    mid = stored(store, "ecommerce_refund_8k.wav", now - timedelta(days=40))
    with TestClient(create_app(settings)) as client:
        authorize(client, "admin")
        deadline = time.monotonic() + 30
        while client.get(f"/api/calls/{old}").status_code != 404:
            assert time.monotonic() < deadline, "the daily purge did not run at start"
            time.sleep(0.2)
        r = client.get(f"/api/calls/{mid}/audio")
        assert r.status_code == 404
        assert "removed by the retention policy (AUDIO_RETENTION_DAYS)" in r.json()["detail"]
        page = client.get(f"/ui/calls/{mid}")
        assert page.status_code == 200
        assert "The recording was removed by the retention policy (AUDIO_RETENTION_DAYS)" \
            in page.text
        assert "<audio" not in page.text
        assert client.get("/api/audit", params={"action": "purge"}).json()["items"][0][
            "actor"] == "retention"


def test_purge_dry_run_prints_the_same_list_and_removes_nothing(
        data_dir: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if database_url is not None:
        monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("RETENTION_DAYS", "90")
    monkeypatch.setenv("AUDIO_RETENTION_DAYS", "30")
    settings = Settings()
    parts = Components(settings)
    try:
        now = datetime.now(UTC)
        old = stored(parts.store, "banking_card_block_8k.wav", now - timedelta(days=100))
        mid = stored(parts.store, "ecommerce_refund_8k.wav", now - timedelta(days=40))
        stored(parts.store, "tone_5s.wav", now)
        runner = CliRunner()
        dry = runner.invoke(app, ["purge", "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert parts.store.count() == 3 and not parts.store.get(mid).audio_removed
        assert on_disk(parts.store, "banking_card_block_8k.wav")
        real = runner.invoke(app, ["purge"])
        assert real.exit_code == 0, real.output
        assert parts.store.count() == 2 and parts.store.get(mid).audio_removed
        assert purge_rows(parts.store, settings)[0][0] == f"cli:{getpass.getuser()}"
    finally:
        parts.close()

    def listed(output: str) -> list[tuple[str, str]]:
        """(call id, the setting that removes it) for each line."""
        return re.findall(r"^call (\d+): .*\((\w+)=", output, re.M)

    assert listed(dry.stdout) == listed(real.stdout) == [
        (str(old), "RETENTION_DAYS"), (str(mid), "AUDIO_RETENTION_DAYS")]
    assert "would delete" in dry.stdout and "would" not in real.stdout
