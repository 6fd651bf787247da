"""A dead worker's job moves on: each run holds its job and writes a heartbeat; the sweeper
queues again a job whose holder went silent for JOB_STALE_SECONDS (exactly one of several
sweepers does), and the retrying jobs that are due; a copy of a job held by a live run does
nothing. Then the real thing: `kill -9` of a Celery worker mid-job, on Redis and on RabbitMQ,
with the default settings (JOB_STALE_SECONDS=60, CELERY_VISIBILITY_TIMEOUT=3600): a second
worker finishes the job within two minutes of the kill, with exactly one call row."""

from __future__ import annotations

import io
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from kombu import Connection

from audiohub.config import CelerySettings, JobSettings, Settings
from audiohub.gateway.hub import build_hub
from audiohub.jobs.celery_backend import ANALYZE, TRANSCRIBE, CeleryQueue
from audiohub.jobs.inprocess import InProcessQueue
from audiohub.jobs.models import JobRow
from audiohub.jobs.recovery import Sweeper, hold
from audiohub.jobs.service import JobService
from audiohub.persistence.db import Database, migrate
from tests.conftest import AUDIO, make_settings
from tests.jobs.test_celery import (
    REDIS,
    Worker,
    calls_of,
    job_status,
    long_call,
    ran,
    wait_status,
)

RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"
CALL = AUDIO / "banking_card_block_16k.wav"
STALE = JobSettings().stale_seconds  # the default, 60 s


@pytest.fixture
def db(tmp_path: Path, database_url: str | None) -> Iterator[Database]:
    database = Database(make_settings(tmp_path / "data", database_url).database_url)
    migrate(database.engine)
    yield database
    database.engine.dispose()


def add_job(db: Database, status: str, **values: object) -> str:
    job_id = uuid.uuid4().hex
    with db.session() as session:
        session.add(JobRow(id=job_id, status=status, filename="call.wav", audio_sha256="0" * 64,
                           spool_path="", timings={}, webhook_attempts=[], **values))
    return job_id


def row(db: Database, job_id: str) -> JobRow:
    with db.session() as session:
        found = session.get(JobRow, job_id)
        assert found is not None
        return found


def test_a_silent_holder_s_job_is_queued_again_by_exactly_one_sweeper(db: Database) -> None:
    now = datetime.now(UTC)
    dead = add_job(db, "transcribing", claimed_by="dead-run", attempts=1,
                   heartbeat_at=now - timedelta(seconds=STALE + 5))
    alive = add_job(db, "transcribing", claimed_by="live-run", attempts=1,
                    heartbeat_at=now - timedelta(seconds=STALE - 15))
    handed_over = add_job(db, "analyzing")  # between the halves: waits for an analysis worker
    sweepers = [Sweeper(db, InProcessQueue(workers=0), JobSettings()) for _ in range(4)]
    results: list[list[str]] = [[] for _ in sweepers]
    start = threading.Barrier(len(sweepers))

    def sweep(n: int) -> None:
        start.wait()
        results[n] = sweepers[n].sweep(now)

    threads = [threading.Thread(target=sweep, args=(n,)) for n in range(len(sweepers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [j for r in results for j in r] == [dead], results  # once, by one sweeper
    requeued = row(db, dead)
    assert (requeued.status, requeued.claimed_by) == ("queued", None)
    assert row(db, alive).claimed_by == "live-run"  # a live worker's job is left to it
    assert row(db, handed_over).status == "analyzing"


def test_a_retrying_job_is_queued_again_when_its_time_comes(db: Database) -> None:
    now = datetime.now(UTC)
    job_id = add_job(db, "retrying", attempts=1, next_attempt_at=now + timedelta(seconds=30))
    sweeper = Sweeper(db, InProcessQueue(workers=0), JobSettings())
    assert sweeper.sweep(now) == []
    assert row(db, job_id).status == "retrying"
    later = now + timedelta(seconds=31)
    assert sweeper.sweep(later) == [job_id]
    assert row(db, job_id).status == "queued"
    assert sweeper.sweep(later) == []  # queued once


def test_a_copy_of_a_job_held_by_a_live_run_does_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    hub = build_hub(settings)
    try:
        jobs = JobService(hub, InProcessQueue(workers=0))
        with CALL.open("rb") as f:
            job_id = jobs.submit(f, CALL.name).job_id
        with hold(hub.parts.db, job_id, STALE) as token:  # a live run holds it
            assert token is not None
            jobs.process(job_id)  # the in-process task, run for a duplicate
            assert jobs.transcribe(job_id) is False  # the Celery task, likewise
            held = row(hub.parts.db, job_id)
            assert (held.status, held.transcription, held.claimed_by) == ("queued", None, token)
            assert held.heartbeat_at is not None
        # Its holder's run ended without ending the job (it died): the job stays held until a
        # sweeper finds it silent.
        assert row(hub.parts.db, job_id).claimed_by == token
    finally:
        hub.close()


# --- kill -9 of a Celery worker ---------------------------------------------------------------


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> Iterator[str]:
    url = REDIS if request.param == "redis" else RABBITMQ
    with Connection(url, connect_timeout=5) as conn:
        try:
            conn.ensure_connection(max_retries=1)
        except Exception as exc:
            pytest.fail(f"{request.param} at {url} is not reachable ({exc}); run `make services`")
    yield url


def wait_attempt(pg_url: str, job_id: str, attempt: int, timeout: float) -> float:
    """When (monotonic) the job's `attempt`th run took it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(pg_url) as conn:
            found = conn.execute("SELECT attempts FROM jobs WHERE id = %s", (job_id,)).fetchone()
        if found is not None and found[0] >= attempt:
            return time.monotonic()
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} not taken a {attempt}th time in {timeout} s")


@pytest.mark.postgres
def test_a_killed_worker_s_job_is_done_by_another_worker_within_two_minutes(
    broker: str, tmp_path: Path, pg_url: str,
) -> None:
    run = uuid.uuid4().hex[:8]
    celery = CelerySettings(CELERY_BROKER_URL=broker,
                            CELERY_TRANSCRIPTION_QUEUE=f"transcription-{run}",
                            CELERY_ANALYSIS_QUEUE=f"analysis-{run}")
    assert celery.visibility_timeout == 3600  # the default: the broker alone would wait 1 h
    settings: Settings = make_settings(tmp_path / "data", pg_url)
    hub = build_hub(settings)
    queue = CeleryQueue(celery)
    first = Worker(settings, celery, tmp_path / "worker-1.log")
    second = Worker(settings, celery, tmp_path / "worker-2.log")
    try:
        gateway = JobService(hub, queue)
        first.start()
        job_id = gateway.submit(io.BytesIO(long_call(25)), "long_call.wav").job_id
        wait_status(pg_url, job_id, {"transcribing"}, 60, first.log)
        time.sleep(1)
        first.kill()
        killed = time.monotonic()
        assert job_status(pg_url, job_id) == "transcribing"
        second.start()
        moved_on = wait_attempt(pg_url, job_id, 2, 110) - killed  # the second run took it
        status = wait_status(pg_url, job_id, {"done", "failed"}, 150, second.log)
        took = time.monotonic() - killed
        assert status == "done", gateway.get(job_id)
        assert took < 120, took
        assert calls_of(pg_url, job_id) == 1
        log = second.log.read_text()
        assert f"job {job_id}: its worker has not been heard from" in log
        assert ran(TRANSCRIBE, log) and ran(ANALYZE, log)
        if broker.startswith("amqp"):
            # RabbitMQ gave the killed worker's message back at once: the job was still held
            # (its holder not yet silent for long), so that copy did nothing.
            assert f"job {job_id} is held by another run" in log
        print(f"\n{broker.split(':')[0]}: taken by the second worker {moved_on:.1f} s and done "
              f"{took:.1f} s after the kill (JOB_STALE_SECONDS={STALE:g})")
    finally:
        second.stop()
        first.stop()
        queue.stop()
        hub.close()
        if broker.startswith("amqp"):
            with Connection(broker) as conn:
                channel = conn.default_channel
                for name in (celery.transcription_queue, celery.analysis_queue):
                    channel.queue_delete(name)
