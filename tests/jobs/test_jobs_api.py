"""POST /api/jobs on the one-process hub with real models and a real database: accepted at once,
analysed in the background, deduplicated, idempotent, failed cleanly, picked up again after a
stop, and announced by a signed webhook to a real receiver."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audiohub.config import CelerySettings, JobSettings, Settings
from audiohub.errors import BackendUnavailableError
from audiohub.gateway.app import create_app
from audiohub.gateway.hub import build_hub
from audiohub.jobs.inprocess import InProcessQueue
from audiohub.jobs.models import JobRow
from audiohub.jobs.service import JobService
from audiohub.jobs.webhooks import SIGNATURE_HEADER, verify
from audiohub.persistence.db import Database
from tests.conftest import AUDIO, make_settings
from tests.keys import authorize
from tests.processes import free_port

CALL = AUDIO / "banking_card_block_16k.wav"
SECRET = "whsec-test"


def wait_done(client: TestClient, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} not finished in {timeout} s")


def submit(client: TestClient, path: Path = CALL, **kw: Any) -> Any:
    with path.open("rb") as f:
        return client.post("/api/jobs", files={"file": (path.name, f)}, **kw)


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return make_settings(tmp_path / "data", database_url,
                         jobs=JobSettings(WEBHOOK_SECRET=SECRET, WEBHOOK_BACKOFF_SECONDS=0.05,
                                          WEBHOOK_ALLOW_HOSTS="127.0.0.1"))  # the receiver's


def test_a_job_is_accepted_at_once_and_ends_with_the_seed_output(
    settings: Settings, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, got = receiver
    with TestClient(create_app(settings)) as client:
        authorize(client, "uploader")  # reads the job and the call it submitted itself
        r = submit(client, data={"webhook_url": url})
        assert r.status_code == 202, r.text
        accepted = r.json()
        assert accepted["status"] == "queued"
        job = wait_done(client, accepted["job_id"])
        assert job["status"] == "done", job
        assert job["progress"] == 1.0
        assert {"transcribing", "analyzing", "saving"} <= job["timings"].keys()
        result = job["result"]
        assert (result["domain"], result["category"]) == ("banking", "card_block")
        assert client.get(f"/api/calls/{job['call_id']}").json() == result
        listed = client.get("/api/jobs", params={"status": "done"}).json()
        assert [j["job_id"] for j in listed["items"]] == [accepted["job_id"]]
        assert not list((settings.data_dir / "jobs").glob("*.wav"))  # the spool is emptied
        # The webhook arrived once, signed over the exact bytes received.
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
        headers, body = got[0]
        assert verify(body, headers[SIGNATURE_HEADER.lower()], SECRET)
        assert not verify(body, headers[SIGNATURE_HEADER.lower()], "wrong secret")
        assert headers["x-audiohub-event"] == "job.done"
        # The attempt is recorded once the receiver has answered: it may land just after.
        attempts: list[dict[str, Any]] = []
        while not attempts and time.monotonic() < deadline:
            attempts = client.get(f"/api/jobs/{accepted['job_id']}").json()["webhook_attempts"]
            time.sleep(0.05)
        assert [a["status_code"] for a in attempts] == [200]


def test_same_key_same_job_and_same_audio_is_not_analysed_twice(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        authorize(client, "analyst")
        first = submit(client, headers={"Idempotency-Key": "upload-42"}).json()
        again = submit(client, headers={"Idempotency-Key": "upload-42"}).json()
        assert again["job_id"] == first["job_id"]
        done = wait_done(client, first["job_id"])
        second = wait_done(client, submit(client).json()["job_id"])
        assert second["deduplicated"] is True and second["call_id"] == done["call_id"]
        assert second["result"] == done["result"]
        assert client.get("/api/stats").json()["total_calls"] == 1
        forced = wait_done(client, submit(client, params={"force": "true"}).json()["job_id"])
        assert forced["deduplicated"] is False and forced["call_id"] != done["call_id"]
        assert client.get("/api/stats").json()["total_calls"] == 2


def test_a_job_on_bad_audio_fails_with_the_reason_and_stores_nothing(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        authorize(client, "analyst")
        job = wait_done(client, submit(client, AUDIO / "not_audio.txt").json()["job_id"])
        assert job["status"] == "failed"
        assert job["error"]["error"] == "unsupported_audio"
        assert client.get("/api/stats").json()["total_calls"] == 0
        bad = submit(client, data={"webhook_url": "ftp://example.com/hook"})
        assert bad.status_code == 400, bad.text
        assert client.get("/api/jobs").json()["total"] == 1  # the refused one was never a job
        assert client.get("/api/jobs/nope").status_code == 404


def test_jobs_left_unfinished_by_a_stop_are_finished_after_the_restart(
    settings: Settings
) -> None:
    with TestClient(create_app(settings)):
        pass  # migrates the database
    # What a crash mid-analysis leaves behind: the row says "analyzing", the audio is spooled.
    spool = settings.data_dir / "jobs" / "crashedjob.wav"
    spool.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(CALL, spool)
    db = Database(settings.database_url)
    with db.session() as session:
        session.add(JobRow(id="crashedjob", status="analyzing", filename="call.wav",
                           audio_sha256="0" * 64, spool_path=str(spool), timings={},
                           webhook_attempts=[]))
    db.engine.dispose()
    with TestClient(create_app(settings)) as client:
        authorize(client, "analyst")
        job = wait_done(client, "crashedjob")
        assert job["status"] == "done" and job["result"]["domain"] == "banking"
        assert client.get("/api/stats").json()["total_calls"] == 1


def test_a_job_whose_transcription_was_kept_goes_on_from_it_after_a_restart(
    settings: Settings
) -> None:
    """A crash between the two halves: the restart analyses the kept transcription instead of
    transcribing again."""
    with TestClient(create_app(settings)):
        pass  # migrates the database
    hub = build_hub(settings)
    try:
        jobs = JobService(hub, InProcessQueue(workers=0))  # queued, never run: the crash
        with CALL.open("rb") as f:
            job_id = jobs.submit(f, CALL.name).job_id
        assert jobs.transcribe(job_id) is True, jobs.get(job_id)
        half = jobs.get(job_id)
        assert half.status == "analyzing" and half.call_id is None
        transcribed_in = half.timings["transcribing"]
    finally:
        hub.close()
    with TestClient(create_app(settings)) as client:
        authorize(client, "analyst")
        job = wait_done(client, job_id)
    assert job["status"] == "done", job
    assert job["timings"]["transcribing"] == transcribed_in  # not transcribed a second time
    assert {"analyzing", "saving"} <= job["timings"].keys()
    assert job["result"]["category"] == "card_block"
    db = Database(settings.database_url)
    with db.session() as session:
        row = session.get(JobRow, job_id)
        assert row is not None and row.transcription is None  # not kept past the job's end
    db.engine.dispose()


def test_a_late_second_run_of_a_finished_job_changes_nothing(settings: Settings) -> None:
    """A redelivered copy that trips over the call its twin stored must not turn done into
    failed, nor send a second webhook."""
    with TestClient(create_app(settings)) as client:
        authorize(client, "analyst")
        job = wait_done(client, submit(client).json()["job_id"])
        assert job["status"] == "done"
        jobs: JobService = client.app.state.jobs  # type: ignore[attr-defined]
        jobs.fail(job["job_id"], BackendUnavailableError("a late duplicate's error"))
        jobs.process(job["job_id"])
        again = client.get(f"/api/jobs/{job['job_id']}").json()
        assert again["status"] == "done" and again["error"] is None
        assert again["call_id"] == job["call_id"]
        assert client.get("/api/stats").json()["total_calls"] == 1


def test_with_the_broker_down_a_job_is_refused_with_503_and_nothing_kept(
    tmp_path: Path
) -> None:
    """CELERY_BROKER_URL set and Redis not answering: a clear 503, no job row, no spooled audio."""
    settings = make_settings(tmp_path / "data", celery=CelerySettings(
        CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0"))
    with TestClient(create_app(settings)) as client:
        authorize(client, "analyst")
        r = submit(client, headers={"Idempotency-Key": "k1"})
        assert r.status_code == 503, r.text
        assert "CELERY_BROKER_URL" in r.json()["detail"]
        assert client.get("/api/jobs").json()["total"] == 0
        assert not [p for p in (settings.data_dir / "jobs").rglob("*") if p.is_file()]
