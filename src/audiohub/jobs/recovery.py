"""Jobs that outlive their parts: one run holds a job at a time and says it is alive, and a sweep
queues again what a dead worker held and what waited out a retry's backoff.

A run claims its job with a conditional UPDATE (`JobRepository.claim`) and a thread writes the
job's `heartbeat_at` every sixth of JOB_STALE_SECONDS (10 s by default) while it runs. Another
copy of the job (a broker's redelivery, a second queueing) finds it held and leaves it alone,
so a job on a live worker is never run twice. A holder silent for JOB_STALE_SECONDS died (kill
-9, out of memory, a lost host): the sweeper, which runs in every gateway and every `audiohub
worker`, releases the job and queues it again, again by a conditional UPDATE, so of several
sweepers exactly one does. The same sweep queues each `retrying` job whose next attempt is due:
the one scheduler for the in-process queue and Celery alike, with nothing held in a broker.
`retry_failed` queues a failed job again by hand (POST /api/jobs/{id}/retry).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from audiohub.config import JobSettings
from audiohub.errors import AudioHubError, ConflictError, NotFoundError
from audiohub.jobs.base import JobQueue
from audiohub.jobs.repository import JobRepository
from audiohub.jobs.schemas import JobAccepted
from audiohub.persistence.db import Database

log = logging.getLogger("audiohub")

# How often a gateway sweeper looks for failed jobs' recordings past FAILED_JOB_RETENTION_DAYS.
EXPIRY_EVERY = timedelta(hours=1)


def now() -> datetime:
    return datetime.now(UTC)


def backoff(attempts: int, settings: JobSettings) -> float:
    """Seconds before the attempt after `attempts` runs: JOB_RETRY_BACKOFF_SECONDS, doubling."""
    return float(settings.retry_backoff_seconds * 2 ** max(attempts - 1, 0))


@contextmanager
def hold(db: Database, job_id: str, stale_seconds: float) -> Iterator[str | None]:
    """Hold the job for one run, its heartbeat written meanwhile: yields this run's token, or
    None when the job is held by another run, waits for its retry, or has ended."""
    token = uuid.uuid4().hex
    with db.session() as session:
        if not JobRepository(session).claim(job_id, token, now()):
            yield None
            return
    stop = threading.Event()
    beat = threading.Thread(target=_beat, args=(db, job_id, token, stale_seconds / 6, stop),
                            name=f"heartbeat-{job_id[:8]}", daemon=True)
    beat.start()
    try:
        yield token
    finally:
        # Not released here: a job that ended, or went back as retrying, was released by
        # that write, and one a transcription worker hands over is released before. A run
        # that got here otherwise (the database went away under it) leaves the job held,
        # silent from now on, for the sweeper to queue again.
        stop.set()
        beat.join()


def _beat(db: Database, job_id: str, token: str, every: float, stop: threading.Event) -> None:
    while not stop.wait(every):
        try:
            with db.session() as session:
                held = JobRepository(session).heartbeat(job_id, token, now())
        except Exception:  # a database hiccup: the next beat tries again
            log.warning("job %s: its heartbeat could not be written", job_id, exc_info=True)
            continue
        if not held:  # ended, or released by a sweeper after this run went silent too long
            return


def retry_failed(db: Database, queue: JobQueue, settings: JobSettings, job_id: str,
                 owner: str | None = None) -> JobAccepted:
    """Queue a failed job again with JOB_MAX_ATTEMPTS runs ahead of it and its kept recording
    and transcription (JobService.retry); with `owner`, only that submitter's job."""
    with db.session() as session:
        repo = JobRepository(session)
        row = repo.get(job_id)
        if row is None or (owner is not None and row.submitted_by != owner):
            raise NotFoundError(f"no job with id {job_id}")
        if row.status != "failed":
            raise ConflictError(f"job {job_id} is {row.status}: only a failed job can be "
                                "retried")
        if not row.spool_path or not Path(row.spool_path).is_file():
            raise ConflictError(
                f"job {job_id}'s recording is no longer kept (a failed job keeps it for "
                f"FAILED_JOB_RETENTION_DAYS={settings.failed_retention_days:g}); submit the "
                "recording again")
        if not repo.retry_failed(job_id):  # a second retry at the same moment
            raise ConflictError(f"job {job_id} was retried already")
    try:
        queue.enqueue(job_id)
    except AudioHubError as exc:  # the broker is away: a sweep queues it once it is back
        log.warning("job %s: retried, but not queued (%s); the sweeper will", job_id,
                    exc.detail)
        with db.session() as session:
            JobRepository(session).postpone(job_id, now())
        return JobAccepted(job_id=job_id, status="retrying")
    return JobAccepted(job_id=job_id, status="queued")


class Sweeper:
    """Every twelfth of JOB_STALE_SECONDS (5 s by default), in a daemon thread: queue again the
    jobs of dead holders and the retrying jobs that are due. With `expire`, the gateway's, also
    removes failed jobs' recordings past FAILED_JOB_RETENTION_DAYS, hourly (`expire` is
    retention.expire_failed_jobs: the gateway is the process that spools recordings)."""

    def __init__(self, db: Database, queue: JobQueue, settings: JobSettings,
                 expire: Callable[[Database, float], int] | None = None) -> None:
        self.db = db
        self.queue = queue
        self.settings = settings
        self.expire = expire
        self.every = max(settings.stale_seconds / 12, 0.5)
        self._expired_at: datetime | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="job-sweeper", daemon=True)

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.sweep()
            except Exception:  # a database down for a while must not end the sweeps for good
                log.warning("job sweep failed; trying again in %.1f s", self.every, exc_info=True)

    def sweep(self, at: datetime | None = None) -> list[str]:
        """One sweep as of `at` (default now); the ids it queued again."""
        at = at or now()
        cutoff = at - timedelta(seconds=self.settings.stale_seconds)
        queued: list[str] = []
        with self.db.session() as session:
            stale = JobRepository(session).stale(cutoff)
        for job_id, holder in stale:
            with self.db.session() as session:
                if not JobRepository(session).requeue_stale(job_id, holder, cutoff):
                    continue  # another sweeper was first, or the holder spoke up
            log.warning("job %s: its worker has not been heard from for %.0f s; queued again",
                        job_id, self.settings.stale_seconds)
            queued += self._enqueue(job_id, at)
        with self.db.session() as session:
            due = JobRepository(session).due(at)
        for job_id in due:
            with self.db.session() as session:
                if not JobRepository(session).requeue_due(job_id, at):
                    continue
            log.info("job %s: its next attempt is due; queued again", job_id)
            queued += self._enqueue(job_id, at)
        if self.expire is not None and (
                self._expired_at is None or at - self._expired_at >= EXPIRY_EVERY):
            self._expired_at = at
            if removed := self.expire(self.db, self.settings.failed_retention_days):
                log.info("FAILED_JOB_RETENTION_DAYS: removed the recordings of %d failed jobs",
                         removed)
        return queued

    def _enqueue(self, job_id: str, at: datetime) -> list[str]:
        try:
            self.queue.enqueue(job_id)
        except Exception as exc:  # the broker is away: the job waits as retrying for the next
            log.warning("job %s could not be queued again (%s); trying at the next sweep",
                        job_id, exc)
            with self.db.session() as session:
                JobRepository(session).postpone(job_id, at + timedelta(seconds=self.every))
            return []
        return [job_id]
