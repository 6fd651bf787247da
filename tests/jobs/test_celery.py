"""The Celery queue backend against the machine's Redis and PostgreSQL, with real `audiohub
worker` processes: a job is run by a worker; its two halves run on workers of two queues; a
worker killed mid-transcription loses nothing (the job is redelivered and ends with exactly one
call); an unreachable broker refuses the job, or fails it clearly when it is the analysis that
cannot be queued."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
import wave
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import redis

from audiohub.config import Settings
from audiohub.errors import BackendUnavailableError
from audiohub.gateway.hub import build_hub
from audiohub.jobs.celery_backend import (
    ANALYZE,
    TRANSCRIBE,
    CeleryQueue,
    CelerySettings,
    make_celery,
    release_worker,
)
from audiohub.jobs.service import JobService
from tests.conftest import AUDIO, make_settings
from tests.processes import free_port, stop_process

pytestmark = pytest.mark.postgres

REDIS = os.environ.get("AUDIOHUB_TEST_REDIS", "redis://127.0.0.1:6379/5")
CALL = AUDIO / "banking_card_block_16k.wav"
VISIBILITY_TIMEOUT = 5  # seconds before a killed worker's job is delivered again


@pytest.fixture
def broker() -> str:
    """The machine's Redis, a database of its own, emptied. Not reachable is a failure."""
    client = redis.Redis.from_url(REDIS, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {REDIS} is not reachable ({exc}); run `make services`")
    client.flushdb()
    client.close()
    return REDIS


@pytest.fixture
def celery(broker: str) -> CelerySettings:
    run = uuid.uuid4().hex[:8]
    return CelerySettings(CELERY_BROKER_URL=broker, CELERY_VISIBILITY_TIMEOUT=VISIBILITY_TIMEOUT,
                          CELERY_TRANSCRIPTION_QUEUE=f"transcription-{run}",
                          CELERY_ANALYSIS_QUEUE=f"analysis-{run}")


@pytest.fixture
def settings(tmp_path: Path, pg_url: str) -> Settings:
    return make_settings(tmp_path / "data", pg_url)


@pytest.fixture
def gateway(settings: Settings, celery: CelerySettings) -> Iterator[JobService]:
    """What the gateway holds: the hub (database migrated, models not loaded) and a JobService
    publishing to Celery."""
    hub = build_hub(settings)
    queue = CeleryQueue(celery)
    try:
        yield JobService(hub, queue)
    finally:
        queue.stop()
        hub.close()


class Worker:
    """One `audiohub worker` process (solo pool: the process that runs the job)."""

    def __init__(self, settings: Settings, celery: CelerySettings, log: Path,
                 queues: str | None = None) -> None:
        self.log = log
        self.args = ["--queues", queues] if queues else []
        self.env = {
            **os.environ, "HF_HUB_OFFLINE": "1",
            "AUDIOHUB_DATA_DIR": str(settings.data_dir),
            "DATABASE_URL": settings.database.url or "",
            "CELERY_BROKER_URL": celery.broker_url or "",
            "CELERY_VISIBILITY_TIMEOUT": str(celery.visibility_timeout),
            "CELERY_TRANSCRIPTION_QUEUE": celery.transcription_queue,
            "CELERY_ANALYSIS_QUEUE": celery.analysis_queue,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120) -> Worker:
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "audiohub.jobs.worker_cli", *self.args],
                env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited:\n{self.log.read_text()[-3000:]}")
            if " ready." in self.log.read_text()[offset:]:
                return self
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready in {timeout} s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        stop_process(self.proc, grace=30)  # Celery's warm shutdown finishes the job under way
        self.proc = None


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[Worker]]:
    """The test's workers, stopped at its end whatever happens."""
    started: list[Worker] = []
    yield started
    for w in started:
        w.stop()


def job_status(pg_url: str, job_id: str) -> str:
    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT status FROM jobs WHERE id = %s", (job_id,)).fetchone()
    assert row is not None, f"no job row {job_id}"
    return str(row[0])


def calls_of(pg_url: str, job_id: str) -> int:
    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT count(*) FROM calls WHERE job_id = %s", (job_id,)).fetchone()
    assert row is not None
    return int(row[0])


def wait_status(pg_url: str, job_id: str, wanted: set[str], timeout: float,
                log: Path) -> str:
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        if (status := job_status(pg_url, job_id)) in wanted:
            return status
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {status!r} after {timeout} s, not in {wanted}:\n"
                         f"{log.read_text()[-3000:]}")


def ran(task: str, log: str) -> bool:
    """Whether a worker's log shows it running `task` (not only listing it in its banner)."""
    return f"Task {task}[" in log


def long_call(seconds: float = 45) -> bytes:
    """A WAV of the 16 kHz fixtures one after another, repeated to about `seconds`."""
    parts = sorted(AUDIO.glob("*_16k.wav"))
    out = io.BytesIO()
    frames = 0
    with wave.open(out, "wb") as dst:
        dst.setnchannels(1)
        dst.setsampwidth(2)
        dst.setframerate(16000)
        while frames < seconds * 16000:
            for path in parts:
                with wave.open(str(path), "rb") as src:
                    assert (src.getnchannels(), src.getsampwidth(), src.getframerate()) == (
                        1, 2, 16000), path
                    data = src.readframes(src.getnframes())
                dst.writeframes(data)
                frames += len(data) // 2
    return out.getvalue()


def test_a_job_is_run_by_a_worker_and_its_result_stored(
    gateway: JobService, settings: Settings, celery: CelerySettings, pg_url: str,
    workers: list[Worker], tmp_path: Path,
) -> None:
    log = tmp_path / "worker.log"
    with CALL.open("rb") as f:  # queued before any worker runs: the broker keeps it
        accepted = gateway.submit(f, CALL.name)
    assert job_status(pg_url, accepted.job_id) == "queued"
    workers.append(Worker(settings, celery, log).start())
    assert wait_status(pg_url, accepted.job_id, {"done", "failed"}, 120, log) == "done"
    job = gateway.get(accepted.job_id)
    assert job.status == "done", job
    assert job.result is not None
    assert (job.result["domain"], job.result["category"]) == ("banking", "card_block")
    assert calls_of(pg_url, accepted.job_id) == 1
    assert not list((settings.data_dir / "jobs").glob("*.wav"))  # the spool is emptied
    # The models were loaded once, before the first job, in the process that runs the jobs.
    assert log.read_text().count("models loaded for transcription and analysis") == 1


def test_the_two_halves_of_a_job_run_on_workers_of_two_queues(
    gateway: JobService, settings: Settings, celery: CelerySettings, pg_url: str,
    workers: list[Worker], tmp_path: Path,
) -> None:
    """Transcription here, analysis there: a transcription worker keeps the transcript on the
    job and queues the rest; the job waits there until an analysis worker takes it."""
    t_log, a_log = tmp_path / "transcription.log", tmp_path / "analysis.log"
    workers.append(Worker(settings, celery, t_log, queues=celery.transcription_queue).start())
    with CALL.open("rb") as f:
        accepted = gateway.submit(f, CALL.name)
    job_id = accepted.job_id
    assert wait_status(pg_url, job_id, {"analyzing", "failed"}, 120, t_log) == "analyzing"
    # Handed over: the transcript is kept on the job, its analysis waits in the other queue.
    deadline = time.monotonic() + 30
    while redis.Redis.from_url(celery.broker_url or "").llen(celery.analysis_queue) != 1:
        assert time.monotonic() < deadline, t_log.read_text()[-3000:]
        time.sleep(0.1)
    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT transcription->'classification'->>'category' FROM jobs "
                           "WHERE id = %s", (job_id,)).fetchone()
    assert row is not None and row[0] == "card_block"
    assert calls_of(pg_url, job_id) == 0
    time.sleep(1)
    assert job_status(pg_url, job_id) == "analyzing"  # no worker of that queue yet

    workers.append(Worker(settings, celery, a_log, queues=celery.analysis_queue).start())
    assert wait_status(pg_url, job_id, {"done", "failed"}, 120, a_log) == "done"
    job = gateway.get(job_id)
    assert job.result is not None and job.result["category"] == "card_block"
    assert {"transcribing", "analyzing", "saving"} <= job.timings.keys()
    assert calls_of(pg_url, job_id) == 1
    t_text, a_text = t_log.read_text(), a_log.read_text()
    # (Each worker's banner lists both tasks; the ones it ran are logged "Task <name>[<id>]".)
    assert ran(TRANSCRIBE, t_text) and not ran(ANALYZE, t_text)
    assert ran(ANALYZE, a_text) and not ran(TRANSCRIBE, a_text)
    # Each loaded only its half's models: Whisper stays off the analysis host.
    assert "models loaded for transcription\n" in t_text
    assert "models loaded for analysis\n" in a_text


def test_an_analysis_that_cannot_be_queued_fails_the_job_with_the_reason(
    gateway: JobService, settings: Settings, pg_url: str,
) -> None:
    """The broker goes away between the halves and stays away longer than
    CELERY_HANDOFF_SECONDS: the job ends failed, saying so, with no call."""
    with CALL.open("rb") as f:
        job_id = gateway.submit(f, CALL.name).job_id
    closed = CelerySettings(CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0",
                            CELERY_HANDOFF_SECONDS=1)
    app = make_celery(settings, closed)
    try:
        app.tasks[TRANSCRIBE].run(job_id)  # the task a transcription worker runs, run here
    finally:
        release_worker()  # the worker this process became for the call
    job = gateway.get(job_id)
    assert job.status == "failed" and job.error is not None
    assert job.error.error == "backend_unavailable"
    assert "analysis could not be queued" in job.error.detail
    assert calls_of(pg_url, job_id) == 0
    # Kept for a retry by hand (POST /api/jobs/{id}/retry) for FAILED_JOB_RETENTION_DAYS.
    assert len(list((settings.data_dir / "jobs").glob("*.wav"))) == 1


def test_a_worker_killed_mid_transcription_loses_nothing_and_stores_one_call(
    gateway: JobService, settings: Settings, celery: CelerySettings, pg_url: str,
    workers: list[Worker], tmp_path: Path,
) -> None:
    first_log, second_log = tmp_path / "worker-1.log", tmp_path / "worker-2.log"
    first = Worker(settings, celery, first_log).start()
    workers.append(first)
    accepted = gateway.submit(io.BytesIO(long_call()), "long_call.wav")
    wait_status(pg_url, accepted.job_id, {"transcribing"}, 60, first_log)
    time.sleep(0.5)
    first.kill()
    assert job_status(pg_url, accepted.job_id) == "transcribing"
    assert calls_of(pg_url, accepted.job_id) == 0
    # The killed worker never acknowledged the message: once the visibility timeout has passed
    # the broker hands it to the next worker that asks.
    time.sleep(VISIBILITY_TIMEOUT + 1)
    second = Worker(settings, celery, second_log).start()
    workers.append(second)
    status = wait_status(pg_url, accepted.job_id, {"done", "failed"}, 150, second_log)
    assert status == "done", gateway.get(accepted.job_id)
    assert calls_of(pg_url, accepted.job_id) == 1
    assert gateway.get(accepted.job_id).call_id is not None
    assert ran(TRANSCRIBE, second_log.read_text()) and ran(ANALYZE, second_log.read_text())


def test_an_unreachable_broker_refuses_the_job_with_a_clear_message(broker: str) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    queue = CeleryQueue(CelerySettings(CELERY_BROKER_URL=closed))
    started = time.monotonic()
    with pytest.raises(BackendUnavailableError) as raised:
        queue.enqueue("0" * 32)
    assert time.monotonic() - started < 15
    assert raised.value.status_code == 503
    assert "CELERY_BROKER_URL" in raised.value.detail
    assert closed in raised.value.detail


def test_the_broker_password_is_not_shown_in_the_message() -> None:
    url = f"redis://:s3cret@127.0.0.1:{free_port()}/0"
    with pytest.raises(BackendUnavailableError) as raised:
        CeleryQueue(CelerySettings(CELERY_BROKER_URL=url)).enqueue("0" * 32)
    assert "s3cret" not in raised.value.detail
    assert "CELERY_BROKER_URL=redis://:***@127.0.0.1:" in raised.value.detail


def test_a_job_the_broker_refuses_leaves_no_row_and_no_spooled_audio(
    settings: Settings, pg_url: str,
) -> None:
    hub = build_hub(settings)
    closed = CelerySettings(CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0")
    try:
        jobs = JobService(hub, CeleryQueue(closed))
        with CALL.open("rb") as f, pytest.raises(BackendUnavailableError):
            jobs.submit(f, CALL.name, idempotency_key="refused-once")
        with psycopg.connect(pg_url) as conn:
            row = conn.execute("SELECT count(*) FROM jobs").fetchone()
        assert row is not None and row[0] == 0
        assert not [p for p in (settings.data_dir / "jobs").glob("*") if p.is_file()]
    finally:
        hub.close()


class Proxy:
    """A TCP relay to Redis that can be shut down: Redis going away under a running gateway
    (connections it already holds break, new ones are refused)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)  # wakes accept(): nothing more is let in
        self.server.close()
        for s in self.conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


def test_a_broker_that_goes_away_after_working_refuses_the_next_job(broker: str) -> None:
    parts = urlsplit(broker)
    proxy = Proxy((parts.hostname or "127.0.0.1", parts.port or 6379))
    url = f"redis://127.0.0.1:{proxy.port}{parts.path}"
    queue = CeleryQueue(CelerySettings(CELERY_BROKER_URL=url,
                                            CELERY_TRANSCRIPTION_QUEUE="audiohub-gone"))
    try:
        queue.enqueue("a" * 32)  # connected and published
        assert redis.Redis.from_url(broker).llen("audiohub-gone") == 1
        proxy.close()
        started = time.monotonic()
        with pytest.raises(BackendUnavailableError) as raised:
            queue.enqueue("b" * 32)
        assert time.monotonic() - started < 15
        assert "CELERY_BROKER_URL" in raised.value.detail
        assert redis.Redis.from_url(broker).llen("audiohub-gone") == 1  # nothing half-sent
    finally:
        proxy.close()
        queue.stop()
