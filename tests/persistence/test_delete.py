"""Deleting a call, on SQLite and PostgreSQL: no row (calls, domain_specific, jobs), search hit
or file is left behind, a recording another call shares stays, and the same through the
persistence service over HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from audiohub.components import Components
from audiohub.config import ServiceSettings, Settings
from audiohub.errors import NotFoundError
from audiohub.gateway.app import create_app
from audiohub.jobs.models import JobRow
from audiohub.persistence.audio_store import sha256_file
from audiohub.persistence.service import SqlStore
from audiohub.services import create_service_app
from tests.conftest import AUDIO, make_settings
from tests.jobs.test_jobs_api import wait_done
from tests.keys import authorize
from tests.persistence.test_store import WAV, make_record
from tests.processes import serve_in_thread

TOKEN = "delete-test-token"
PASSWORD = "a long enough test password"


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> Iterator[SqlStore]:
    parts = Components(make_settings(tmp_path / "data", database_url))
    yield parts.store
    parts.close()


@pytest.fixture
def client(tmp_path: Path, database_url: str | None) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(tmp_path / "data", database_url))) as c:
        yield authorize(c, "admin")


def post_call(client: TestClient, name: str = WAV.name) -> dict[str, Any]:
    with (AUDIO / name).open("rb") as f:
        r = client.post("/api/transcribe/", files={"file": (name, f)})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def rows(settings: Settings, call_id: int) -> dict[str, int]:
    """The rows of one call left in each table."""
    engine = create_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            return {table: conn.execute(text(f"SELECT count(*) FROM {table} WHERE {col} = :id"),
                                        {"id": call_id}).scalar_one()
                    for table, col in (("calls", "id"), ("domain_specific", "call_id"),
                                       ("jobs", "call_id"))}
    finally:
        engine.dispose()


def search(client: TestClient, q: str) -> list[int]:
    r = client.get("/api/calls", params={"q": q})
    assert r.status_code == 200, r.text
    return [c["call_id"] for c in r.json()["items"]]


def test_delete_leaves_no_row_search_hit_or_file_and_keeps_shared_audio(
        client: TestClient) -> None:
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    store: SqlStore = client.app.state.hub.store  # type: ignore[attr-defined]
    call_id = post_call(client)["database"]["call_id"]
    # A job for the same recording finds the call (deduplicated): its row names the call.
    with WAV.open("rb") as f:
        job = client.post("/api/jobs", files={"file": (WAV.name, f)}).json()
    done = wait_done(client, job["job_id"])
    assert done["call_id"] == call_id and done["deduplicated"] is True
    # A second call of the same recording, stored directly: it shares the file.
    sha = sha256_file(WAV)
    twin = store.save(make_record(sha), WAV)
    recording = store.files.find(sha)
    assert recording is not None
    assert search(client, "Patel") == [call_id]
    assert rows(settings, call_id) == {"calls": 1, "domain_specific": 1, "jobs": 1}

    assert client.delete(f"/api/calls/{call_id}").status_code == 204
    assert rows(settings, call_id) == {"calls": 0, "domain_specific": 0, "jobs": 0}
    assert client.get(f"/api/jobs/{job['job_id']}").status_code == 404
    assert search(client, "Patel") == []
    assert client.get(f"/api/calls/{call_id}").status_code == 404
    assert recording.is_file()  # the twin still offers it
    assert client.get(f"/api/calls/{twin}/audio").content == WAV.read_bytes()
    audit = client.get("/api/audit", params={"action": "call_deleted"}).json()["items"]
    assert [(a["call_id"], a["actor"]) for a in audit] == [(call_id, audit[0]["actor"])]
    assert audit[0]["actor"].startswith("key:test-admin-")

    assert client.delete(f"/api/calls/{call_id}").status_code == 404
    assert client.delete(f"/api/calls/{twin}").status_code == 204
    assert not recording.exists()
    assert rows(settings, twin) == {"calls": 0, "domain_specific": 0, "jobs": 0}


def test_only_an_admin_may_delete(client: TestClient) -> None:
    store: SqlStore = client.app.state.hub.store  # type: ignore[attr-defined]
    call_id = store.save(make_record(sha256_file(WAV)), WAV)
    for role in ("analyst", "viewer", "uploader"):
        authorize(client, role)  # type: ignore[arg-type]
        assert client.delete(f"/api/calls/{call_id}").status_code == 403, role
    authorize(client, "admin")
    assert client.get(f"/api/calls/{call_id}").status_code == 200


def test_the_dashboard_asks_before_it_deletes(client: TestClient) -> None:
    """A signed-in admin: the call page's Delete opens a confirmation page whose form carries
    the CSRF token; without it nothing is deleted."""
    store: SqlStore = client.app.state.hub.store  # type: ignore[attr-defined]
    access = client.app.state.access  # type: ignore[attr-defined]
    access.create_user("ada", PASSWORD, "admin", "tests")
    call_id = store.save(make_record(sha256_file(WAV)), WAV)
    del client.headers["Authorization"]
    r = client.post("/ui/login", data={"username": "ada", "password": PASSWORD},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(f"/ui/calls/{call_id}")
    assert f'href="/ui/calls/{call_id}/delete"' in page.text
    confirm = client.get(f"/ui/calls/{call_id}/delete")
    assert confirm.status_code == 200
    assert f"Delete call {call_id}?" in confirm.text and "This removes" in confirm.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', confirm.text)
    assert found is not None
    refused = client.post(f"/ui/calls/{call_id}/delete", data={"csrf_token": "forged"},
                          follow_redirects=False)
    assert refused.status_code == 403
    assert client.get(f"/ui/calls/{call_id}").status_code == 200
    r = client.post(f"/ui/calls/{call_id}/delete", data={"csrf_token": found[1]},
                    follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/ui/")
    assert client.get(f"/ui/calls/{call_id}").status_code == 404
    # A viewer sees no Delete and may not open the confirmation.
    other = store.save(make_record(sha256_file(WAV)), WAV)
    authorize(client, "viewer")
    assert "/delete" not in client.get(f"/ui/calls/{other}").text
    assert client.get(f"/ui/calls/{other}/delete").status_code == 403


def test_delete_removes_the_jobs_and_their_kept_files(store: SqlStore, tmp_path: Path) -> None:
    record = make_record(sha256_file(WAV))
    record.job_id = "a" * 32
    call_id = store.save(record, WAV)
    spools = [tmp_path / "made.wav", tmp_path / "found.wav"]
    for spool in spools:
        spool.write_bytes(b"RIFF")
    with store.db.session() as session:
        # The job that stored it, still running (no call id yet), and one that found it.
        session.add(JobRow(id="a" * 32, status="analyzing", filename="x.wav",
                           audio_sha256=record.audio_sha256, spool_path=str(spools[0])))
        session.add(JobRow(id="b" * 32, status="done", filename="x.wav", call_id=call_id,
                           deduplicated=True, audio_sha256=record.audio_sha256,
                           spool_path=str(spools[1])))
    deleted = store.delete(call_id)
    assert (deleted.deleted, deleted.recording_removed, deleted.jobs_removed) == (call_id, True,
                                                                                 2)
    assert not any(s.exists() for s in spools)
    assert store.files.find(record.audio_sha256) is None
    with store.db.session() as session:
        assert session.query(JobRow).count() == 0
    with pytest.raises(NotFoundError):
        store.delete(call_id)


def test_delete_through_the_persistence_service(tmp_path: Path,
                                                database_url: str | None) -> None:
    """The gateway in front of a real persistence service (uvicorn on a loopback port)."""
    stage = make_settings(tmp_path / "persistence", database_url,
                          services=ServiceSettings(SERVICE_TOKEN=TOKEN))
    with serve_in_thread(create_service_app(stage, "persistence")) as url:
        gateway = make_settings(tmp_path / "gateway", services=ServiceSettings(
            PERSISTENCE_SERVICE_URL=url, SERVICE_TOKEN=TOKEN))
        with TestClient(create_app(gateway)) as client:
            authorize(client, "admin")
            call_id = post_call(client)["database"]["call_id"]
            recording = stage.audio_dir / sha256_file(WAV)[:2] / f"{sha256_file(WAV)}.wav"
            assert recording.is_file()
            assert search(client, "Patel") == [call_id]
            assert client.delete(f"/api/calls/{call_id}").status_code == 204
            assert not recording.exists()
            assert search(client, "Patel") == []
            assert rows(stage, call_id) == {"calls": 0, "domain_specific": 0, "jobs": 0}
            r = client.delete(f"/api/calls/{call_id}")
            assert r.status_code == 404 and r.json()["error"] == "not_found"
