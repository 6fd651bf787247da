"""Jobs survive their parts: five real service processes on one PostgreSQL, a stage stopped
under a running job (the job waits as `retrying` with its transcription kept, then ends done
with one call and one transcription), a stage down for every attempt (failed, recording kept,
retried by hand once the stage is back), failed jobs' recordings expired after
FAILED_JOB_RETENTION_DAYS, and MAX_QUEUED_JOBS answering 503 with Retry-After."""

from __future__ import annotations

import io
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis
from fastapi.testclient import TestClient

from audiohub.config import CelerySettings, JobSettings, RoleName, Settings
from audiohub.gateway.app import create_app
from audiohub.jobs.models import JobRow
from audiohub.persistence.db import Database
from audiohub.persistence.retention import expire_failed_jobs
from tests.conftest import AUDIO, make_settings, pg_database
from tests.jobs.test_celery import REDIS, long_call
from tests.keys import authorize, key_for
from tests.processes import Server, start_five

pytestmark = pytest.mark.postgres

TOKEN = "test-service-token"
MAX_ATTEMPTS = 4
BACKOFF = 3.0  # seconds before the second attempt; 6 before the third, 12 before the fourth
CALL = AUDIO / "banking_card_block_16k.wav"


@dataclass
class Cluster:
    servers: dict[str, Server]
    gateway_dir: Path
    database_url: str

    @property
    def gateway(self) -> str:
        return self.servers["gateway"].url

    def auth(self, role: RoleName) -> dict[str, str]:
        """A new key of `role`, made where this gateway keeps its keys (DATABASE_URL)."""
        key = key_for(make_settings(self.gateway_dir, self.database_url), role)
        return {"Authorization": f"Bearer {key}"}

    def transcriptions(self) -> int:
        """Requests the transcription service has answered (its access log)."""
        return self.servers["transcription"].log.read_text().count("POST /transcribe")

    def job_row(self, job_id: str) -> dict[str, Any]:
        with psycopg.connect(self.database_url) as conn:
            # (A JSON column set to None holds JSON null.)
            cur = conn.execute("SELECT status, attempts, spool_path, "
                               "coalesce(transcription::text, 'null') <> 'null' "
                               "FROM jobs WHERE id = %s", (job_id,))
            row = cur.fetchone()
            calls = conn.execute("SELECT count(*) FROM calls WHERE job_id = %s",
                                 (job_id,)).fetchone()
        assert row is not None and calls is not None
        return {"status": row[0], "attempts": row[1], "spool_path": row[2],
                "transcription_kept": row[3], "calls": calls[0]}


@pytest.fixture(scope="module")
def cluster(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The five services, the gateway with DATABASE_URL (jobs live next to the calls) and
    short retry settings."""
    root = tmp_path_factory.mktemp("resilience")
    with pg_database(pg_server) as database_url:
        servers = start_five(root, database_url, TOKEN)
        servers["gateway"].env.update({
            "DATABASE_URL": database_url, "JOB_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
            "JOB_RETRY_BACKOFF_SECONDS": str(BACKOFF), "JOB_STALE_SECONDS": "12",
            # Each attempt's own calls to a stopped stage give up quickly.
            "SERVICE_ATTEMPTS": "2", "SERVICE_BACKOFF_SECONDS": "0.2"})
        try:
            for server in servers.values():
                server.start()
            yield Cluster(servers, root / "gateway", database_url)
        finally:
            for server in servers.values():
                server.stop()


def submit(cluster: Cluster, auth: dict[str, str], audio: bytes, name: str) -> str:
    r = httpx.post(f"{cluster.gateway}/api/jobs", headers=auth, timeout=60,
                   files={"file": (name, io.BytesIO(audio), "audio/wav")})
    assert r.status_code == 202, r.text
    job_id: str = r.json()["job_id"]
    return job_id


def wait_for(cluster: Cluster, auth: dict[str, str], job_id: str, wanted: set[str],
             timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        job: dict[str, Any] = httpx.get(f"{cluster.gateway}/api/jobs/{job_id}", headers=auth,
                                         timeout=30).json()
        if not seen or seen[-1] != job["status"]:
            seen.append(job["status"])
        if job["status"] in wanted:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} went {seen}, never {wanted} in {timeout} s:\n"
                         f"{cluster.servers['gateway'].log.read_text()[-3000:]}")


def test_persistence_stopped_mid_job_keeps_the_transcription_and_stores_one_call(
    cluster: Cluster,
) -> None:
    auth = cluster.auth("analyst")
    before = cluster.transcriptions()
    job_id = submit(cluster, auth, long_call(60), "long_call.wav")
    wait_for(cluster, auth, job_id, {"transcribing"}, 60)
    persistence = cluster.servers["persistence"]
    persistence.stop()  # while the call is being transcribed
    try:
        assert cluster.job_row(job_id)["status"] == "transcribing"  # it was stopped mid-job
        waiting = wait_for(cluster, auth, job_id, {"retrying", "failed", "done"}, 180)
        assert waiting["status"] == "retrying", waiting
        assert waiting["error"]["error"] == "stage_unavailable"
        assert "persistence service" in waiting["error"]["detail"]
        assert f"attempt 1 of {MAX_ATTEMPTS}" in waiting["error"]["detail"]
        assert waiting["progress"] == 0.7  # past the transcription, which is kept
        row = cluster.job_row(job_id)
        assert row["transcription_kept"] and Path(row["spool_path"]).is_file()
        assert row["calls"] == 0
    finally:
        persistence.start()
    done = wait_for(cluster, auth, job_id, {"done", "failed"}, 120)
    assert done["status"] == "done", done
    assert done["error"] is None
    assert done["result"]["category"] == "card_block"
    row = cluster.job_row(job_id)
    assert row["calls"] == 1  # exactly one call row for the job
    assert row["attempts"] >= 2 and not row["transcription_kept"]
    assert not Path(row["spool_path"]).exists()  # a done job's spool is emptied
    # Transcribed once: the later attempts went on from the kept transcription.
    assert cluster.transcriptions() == before + 1
    print(f"\npersistence down mid-job: done after {row['attempts']} attempts, "
          f"{done['timings']}")


def test_a_stage_down_for_every_attempt_fails_the_job_then_a_retry_finishes_it(
    cluster: Cluster,
) -> None:
    owner = cluster.auth("uploader")
    extraction = cluster.servers["extraction"]
    before = cluster.transcriptions()
    extraction.stop()
    try:
        started = time.monotonic()
        job_id = submit(cluster, owner, CALL.read_bytes(), CALL.name)
        failed = wait_for(cluster, owner, job_id, {"failed", "done"}, 180)
        took = time.monotonic() - started
        assert failed["status"] == "failed", failed
        assert failed["error"]["error"] == "stage_unavailable"
        assert "extraction service" in failed["error"]["detail"]
        row = cluster.job_row(job_id)
        assert row["attempts"] == MAX_ATTEMPTS
        assert row["calls"] == 0
        # The recording and the transcription are kept for a retry; transcribed only once.
        assert Path(row["spool_path"]).is_file() and row["transcription_kept"]
        assert cluster.transcriptions() == before + 1
        # Backoff 3 + 6 + 12 s between the four attempts.
        assert took >= BACKOFF * (2 ** (MAX_ATTEMPTS - 1) - 1), took
        print(f"\nfailed after {MAX_ATTEMPTS} attempts in {took:.1f} s")
        # The jobs page offers a retry to those who may upload, and to no one else.
        page = httpx.get(f"{cluster.gateway}/ui/jobs", params={"id": job_id}, headers=owner)
        assert f'action="/ui/jobs/{job_id}/retry"' in page.text
        viewer = cluster.auth("viewer")
        page = httpx.get(f"{cluster.gateway}/ui/jobs", params={"id": job_id}, headers=viewer)
        assert page.status_code == 200 and "/retry" not in page.text
        other = cluster.auth("uploader")  # not the owner: the job is not theirs to see
        r = httpx.post(f"{cluster.gateway}/api/jobs/{job_id}/retry", headers=other)
        assert r.status_code == 404, r.text
    finally:
        extraction.start()
    r = httpx.post(f"{cluster.gateway}/api/jobs/{job_id}/retry", headers=owner)
    assert r.status_code == 202, r.text
    assert r.json()["job_id"] == job_id
    again = httpx.post(f"{cluster.gateway}/api/jobs/{job_id}/retry", headers=owner)
    assert again.status_code == 409 and again.json()["error"] == "conflict"  # not failed now
    done = wait_for(cluster, owner, job_id, {"done", "failed"}, 120)
    assert done["status"] == "done", done
    assert done["result"]["category"] == "card_block"
    row = cluster.job_row(job_id)
    assert row["calls"] == 1 and row["attempts"] == 1
    assert cluster.transcriptions() == before + 1  # the retry used the kept transcription
    assert not Path(row["spool_path"]).exists()


def test_the_synchronous_route_still_answers_503_naming_the_stage(cluster: Cluster) -> None:
    persistence = cluster.servers["persistence"]
    persistence.stop()
    try:
        r = httpx.post(f"{cluster.gateway}/api/transcribe/", headers=cluster.auth("analyst"),
                       files={"file": (CALL.name, CALL.read_bytes(), "audio/wav")}, timeout=180)
    finally:
        persistence.start()
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "stage_unavailable"
    assert "persistence service" in r.json()["detail"]


# --- one process: failed jobs' recordings, and backpressure ---------------------------------


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return make_settings(tmp_path / "data", database_url)


def test_a_failed_job_keeps_its_recording_until_failed_job_retention_days(
    settings: Settings,
) -> None:
    with TestClient(create_app(settings)) as client:
        authorize(client, "analyst")
        with (AUDIO / "not_audio.txt").open("rb") as f:
            job_id = client.post("/api/jobs", files={"file": ("x.wav", f)}).json()["job_id"]
        assert wait_ended(client, job_id)["status"] == "failed"
        db: Database = client.app.state.hub.parts.db  # type: ignore[attr-defined]
        with db.session() as session:
            row = session.get(JobRow, job_id)
            assert row is not None
            spool = Path(row.spool_path)
        assert spool.is_file()  # kept for a retry
        # A day short of FAILED_JOB_RETENTION_DAYS (7): kept; a day past it: removed.
        assert expire_failed_jobs(db, 7, datetime.now(UTC) + timedelta(days=6)) == 0
        assert spool.is_file()
        assert expire_failed_jobs(db, 7, datetime.now(UTC) + timedelta(days=8)) == 1
        assert not spool.exists()
        r = client.post(f"/api/jobs/{job_id}/retry")
        assert r.status_code == 409 and "FAILED_JOB_RETENTION_DAYS" in r.json()["detail"]
        assert client.get(f"/api/jobs/{job_id}").json()["status"] == "failed"
        # A job that did not fail cannot be retried either.
        assert client.post("/api/jobs/nope/retry").status_code == 404


def test_the_jobs_page_retries_a_failed_job_with_its_csrf_token(settings: Settings) -> None:
    """A person signed in (a session cookie): the Retry form carries the CSRF token; without it
    the post is refused; with it the job runs again and the page follows it."""
    with TestClient(create_app(settings)) as client:
        access = client.app.state.access  # type: ignore[attr-defined]
        access.create_user("ada", "a long test password", "analyst", "tests")
        r = client.post("/ui/login", data={"username": "ada", "password": "a long test password"},
                        follow_redirects=False)
        assert r.status_code == 303, r.text
        with (AUDIO / "not_audio.txt").open("rb") as f:  # fails whatever the stages do
            upload = client.post("/ui/upload", files={"file": ("x.wav", f)},
                                 params={"csrf_token": csrf_of(client, "/ui/upload")},
                                 follow_redirects=False)
        assert upload.status_code == 303, upload.text
        job_id = upload.headers["location"].split("id=")[1]
        first = wait_ended(client, job_id)
        assert first["status"] == "failed"
        page = f"/ui/jobs?id={job_id}"
        assert f'action="/ui/jobs/{job_id}/retry"' in client.get(page).text
        refused = client.post(f"/ui/jobs/{job_id}/retry", follow_redirects=False)
        assert refused.status_code == 403
        retried = client.post(f"/ui/jobs/{job_id}/retry", follow_redirects=False,
                              data={"csrf_token": csrf_of(client, page)})
        assert retried.status_code == 303, retried.text
        assert retried.headers["location"] == page
        again = wait_ended(client, job_id)
        assert again["status"] == "failed" and again["updated_at"] > first["updated_at"]
        assert again["error"]["error"] == "unsupported_audio"


def csrf_of(client: TestClient, page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text)
    assert found is not None, page
    return found.group(1)


def wait_ended(client: TestClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def test_past_max_queued_jobs_a_new_job_gets_503_with_retry_after(tmp_path: Path) -> None:
    """Celery with no worker: the jobs stay queued, as behind a busy cluster."""
    queue = f"transcription-{uuid.uuid4().hex[:8]}"
    celery = CelerySettings(CELERY_BROKER_URL=REDIS, CELERY_TRANSCRIPTION_QUEUE=queue)
    settings = make_settings(tmp_path / "data", celery=celery,
                             jobs=JobSettings(MAX_QUEUED_JOBS=2))
    try:
        with TestClient(create_app(settings)) as client:
            authorize(client, "uploader")
            key = {"Idempotency-Key": "first"}
            accepted = [client.post("/api/jobs", headers=headers,
                                    files={"file": (CALL.name, CALL.read_bytes())})
                        for headers in (key, {})]
            assert [r.status_code for r in accepted] == [202, 202]
            full = client.post("/api/jobs", files={"file": (CALL.name, CALL.read_bytes())})
            assert full.status_code == 503, full.text
            assert full.json()["error"] == "queue_full"
            assert "MAX_QUEUED_JOBS=2" in full.json()["detail"]
            assert int(full.headers["retry-after"]) > 0
            assert client.get("/api/jobs").json()["total"] == 2  # the third was never a job
            # A job sent again with its Idempotency-Key is not a new one: still answered.
            same = client.post("/api/jobs", headers=key,
                               files={"file": (CALL.name, CALL.read_bytes())})
            assert same.status_code == 202, same.text
            assert same.json()["job_id"] == accepted[0].json()["job_id"]
    finally:
        redis.Redis.from_url(REDIS).delete(queue)
