"""Jobs: a recording accepted now (stored before the 202), analysed in the background, its
status, timings and result kept, and a signed webhook sent when it ends.

`process(job_id)` is the task every queue backend runs; Celery splits it in two queues, running
`transcribe(job_id)` first, which keeps the transcription on the job for `process` to go on from.
Either can be run again for the same job (a crash, a redelivery) without storing a second call:
one run holds the job at a time (jobs/recovery.py), a finished job is left alone, a kept
transcription is not made again, and a call the job already stored is found by its job id.

A stage that is down (BackendUnavailableError, StorageError: connection refused, timeouts,
502-504 after the stage client's own retries) does not fail the job: it waits as `retrying`,
its recording and transcription kept, until JOB_MAX_ATTEMPTS runs have failed so. A failed job
keeps its recording for FAILED_JOB_RETENTION_DAYS and can be queued again (`retry`).
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from anyio import to_thread
from sqlalchemy.exc import IntegrityError

from audiohub.domain import TranscriptionResult
from audiohub.errors import (
    AudioHubError,
    BackendUnavailableError,
    ConfigurationError,
    NotFoundError,
    QueueFullError,
    StorageError,
)
from audiohub.gateway.hub import Hub
from audiohub.gateway.pipeline import StagedAudio, call_signature
from audiohub.gateway.uploads import stage_stream
from audiohub.jobs.base import JobQueue
from audiohub.jobs.delivery import Deliveries
from audiohub.jobs.models import JobRow
from audiohub.jobs.recovery import backoff, hold, now, retry_failed
from audiohub.jobs.repository import RUNNABLE, JobRepository, to_job
from audiohub.jobs.schemas import UNFINISHED, Job, JobAccepted, JobError, JobOptions, JobPage

log = logging.getLogger("audiohub")

JOBS_NEED_DATABASE = ("jobs need the calls' database: set DATABASE_URL on the gateway (the one "
                      "the persistence service uses), or unset PERSISTENCE_SERVICE_URL")
# Seconds a client told the queue is full waits before sending again.
QUEUE_FULL_RETRY_AFTER = 30
# What a stage that is down raises: the job waits for another attempt instead of failing.
STAGE_DOWN = (BackendUnavailableError, StorageError)


def jobs_available(hub: Hub) -> bool:
    """Jobs live in the database the calls are stored in, next to the calls they reference:
    this process's own, or, with a persistence service elsewhere, the one DATABASE_URL shares."""
    return "persistence" not in hub.remote or bool(hub.settings.database.url)


class JobService:
    def __init__(self, hub: Hub, queue: JobQueue) -> None:
        if not jobs_available(hub):
            raise ConfigurationError(JOBS_NEED_DATABASE)
        self.hub = hub
        self.queue = queue
        self.db = hub.parts.db
        self.spool = hub.settings.data_dir / "jobs"
        self.settings = hub.settings.jobs
        # Webhooks go out on threads of their own: a slow receiver never holds up a worker.
        self.deliveries = Deliveries(self.db, hub.settings.jobs, self.get)

    # --- accepting --------------------------------------------------------------------------

    def submit(self, source: BinaryIO, filename: str | None, webhook_url: str | None = None,
               idempotency_key: str | None = None, force: bool = False,
               submitted_by: str | None = None, keyterms: Sequence[str] = ()) -> JobAccepted:
        """Store the recording and the job (with its `keyterms`, cleaned already), then queue
        it. The same Idempotency-Key returns the job it first made, whatever is sent with it."""
        if webhook_url:
            self.deliveries.check(webhook_url)
        if idempotency_key and submitted_by:
            # Each user's or key's own: the same key from someone else is another job, and never
            # hands them the first one's id.
            idempotency_key = hashlib.sha256(
                f"{submitted_by}\0{idempotency_key}".encode()).hexdigest()
        if idempotency_key and (known := self._by_key(idempotency_key)) is not None:
            return known
        self._check_room()
        job_id = uuid.uuid4().hex
        staged = stage_stream(source, filename, self.spool / "tmp",
                              self.hub.settings.max_upload_bytes)
        spool = self.spool / f"{job_id}{Path(staged.filename).suffix[:16]}"
        staged.path.replace(spool)
        row = JobRow(id=job_id, status="queued", filename=staged.filename,
                     audio_sha256=staged.sha256, spool_path=str(spool), webhook_url=webhook_url,
                     idempotency_key=idempotency_key, force=force, timings={},
                     submitted_by=submitted_by, webhook_attempts=[],
                     options=JobOptions(keyterms=list(keyterms)).stored())
        try:
            with self.db.session() as session:
                JobRepository(session).add(row)
        except IntegrityError:  # the same key, sent twice at once: the first one won
            spool.unlink(missing_ok=True)
            known = self._by_key(idempotency_key or "")
            if known is None:
                raise
            return known
        except BaseException:
            spool.unlink(missing_ok=True)
            raise
        # Enqueued after the commit, by id only: a worker always finds the row.
        try:
            self.queue.enqueue(job_id)
        except BaseException:
            # Not queued (broker down): keep nothing, so no row waits forever for a worker and
            # the same Idempotency-Key can be sent again.
            with self.db.session() as session:
                JobRepository(session).delete(job_id)
            spool.unlink(missing_ok=True)
            raise
        return JobAccepted(job_id=job_id, status="queued")

    def _check_room(self) -> None:
        """MAX_QUEUED_JOBS: refuse a new job while that many are waiting or running (a burst
        beyond it would only wait, its recording on disk, past any client's patience)."""
        limit = self.settings.max_queued
        with self.db.session() as session:
            waiting = JobRepository(session).unfinished_count()
        if waiting >= limit:
            raise QueueFullError(
                f"{waiting} jobs are waiting or running, the most this hub queues "
                f"(MAX_QUEUED_JOBS={limit}); send it again in {QUEUE_FULL_RETRY_AFTER} s",
                retry_after=QUEUE_FULL_RETRY_AFTER)

    def _by_key(self, key: str) -> JobAccepted | None:
        with self.db.session() as session:
            row = JobRepository(session).by_key(key)
            return None if row is None else JobAccepted(
                job_id=row.id, status=row.status,  # type: ignore[arg-type]
                deduplicated=row.deduplicated)

    def recover(self) -> int:
        """Queue again every job a stop or crash left unfinished, and send the webhooks it left
        undelivered; returns how many jobs. Retrying jobs wait for their time (the sweeper's),
        and a job another process holds is left to it (its run finds it held)."""
        self.deliveries.recover()
        with self.db.session() as session:
            ids = JobRepository(session).unfinished(RUNNABLE)
        for job_id in ids:
            self.queue.enqueue(job_id)
        return len(ids)

    # --- reading ----------------------------------------------------------------------------

    def get(self, job_id: str, owner: str | None = None) -> Job:
        """A job; with `owner`, only if that user or key submitted it (else not found)."""
        with self.db.session() as session:
            row = JobRepository(session).get(job_id)
            if row is None or (owner is not None and row.submitted_by != owner):
                raise NotFoundError(f"no job with id {job_id}")
            job = to_job(row)
        if job.status == "done" and job.call_id is not None:
            job.result = self.hub.parts.store.get(job.call_id).output()
        return job

    def status(self, job_id: str) -> str:
        """Only the status (no result read): for pollers."""
        with self.db.session() as session:
            row = JobRepository(session).get(job_id)
            if row is None:
                raise NotFoundError(f"no job with id {job_id}")
            return row.status

    def page(self, status: str | None, limit: int, offset: int,
             owner: str | None = None) -> JobPage:
        with self.db.session() as session:
            total, rows = JobRepository(session).page(status, limit, offset, owner)
            return JobPage(total=total, items=[to_job(r) for r in rows])

    # --- running ----------------------------------------------------------------------------

    def process(self, job_id: str) -> None:
        """Run one job to done or failed: the in-process queue's task, and the Celery analysis
        task. A job whose transcription is kept (another worker made it, or a crash came after
        it) goes on from there."""
        with hold(self.db, job_id, self.settings.stale_seconds) as token:
            if token is None or (job := self._open(job_id)) is None:
                _skipped(job_id)
                return
            with self._failing(job_id, job):
                if not self._settled(job_id, job):
                    stage1 = job.transcribed or self._transcribe(job_id, job)
                    self._finish(job_id, "done", call_id=self._complete(job_id, job, stage1))

    def transcribe(self, job_id: str) -> bool:
        """Only the first half (the Celery transcription task): transcribe, keep the result on
        the job, and say whether the job now waits for its analysis (`process`). False when it
        has ended instead (done before, deduplicated, failed), waits for a retry, or is held
        by another run."""
        with hold(self.db, job_id, self.settings.stale_seconds) as token:
            if token is None or (job := self._open(job_id)) is None:
                _skipped(job_id)
                return False
            with self._failing(job_id, job):
                if job.transcribed is not None:  # a redelivery, or a retry, after it was kept
                    self.record(job_id, {"status": "analyzing"})
                elif self._settled(job_id, job):
                    return False
                else:
                    self._transcribe(job_id, job)
                # Free for the analysis worker to take.
                with self.db.session() as session:
                    JobRepository(session).release(job_id, token)
                return True
        return False  # failed or retrying, and the job says why

    def retry(self, job_id: str, owner: str | None = None) -> JobAccepted:
        """Queue a failed job again (POST /api/jobs/{id}/retry), with JOB_MAX_ATTEMPTS runs
        ahead of it and its kept work; with `owner`, only that submitter's job."""
        return retry_failed(self.db, self.queue, self.settings, job_id, owner)

    def fail(self, job_id: str, error: AudioHubError) -> None:
        """End a job that cannot go on (its analysis could not be queued)."""
        self._finish(job_id, "failed", error=JobError(error=error.error, detail=error.detail))

    def _open(self, job_id: str) -> _OpenJob | None:
        """The job to work on, or None when there is none or it has ended."""
        with self.db.session() as session:
            row = JobRepository(session).get(job_id)
            if row is None or row.status not in UNFINISHED:
                return None
            options = JobOptions.of(row.options)
            return _OpenJob(
                staged=StagedAudio(path=Path(row.spool_path), sha256=row.audio_sha256,
                                   filename=row.filename, job_id=row.id,
                                   submitted_by=row.submitted_by,
                                   keyterms=tuple(options.keyterms)),
                force=row.force, timings=dict(row.timings or {}),
                transcribed=(TranscriptionResult.model_validate(row.transcription)
                             if row.transcription else None), attempts=row.attempts)

    @contextmanager
    def _failing(self, job_id: str, job: _OpenJob) -> Iterator[None]:
        """Whatever goes wrong, the job ends failed and says why, unless its call was stored
        after all (a second run of it got there first and this one tripped over that), or a
        stage is down and attempts are left: then it waits as retrying."""
        try:
            yield
        except Exception as exc:  # the job must end either way; the log keeps the traceback
            if self._stored(job_id):
                return
            if isinstance(exc, STAGE_DOWN):
                self._stage_down(job_id, job.attempts, exc)
                return
            if isinstance(exc, AudioHubError):
                self.fail(job_id, exc)
                return
            log.exception("job %s failed", job_id)
            self._finish(job_id, "failed", error=JobError(
                error="internal_error", detail=f"{type(exc).__name__}: {exc}"))

    def _stage_down(self, job_id: str, attempts: int,
                    exc: BackendUnavailableError | StorageError) -> None:
        """Back to `retrying` with its work kept, the next attempt after the backoff; failed
        once JOB_MAX_ATTEMPTS runs have ended so (its recording kept for a retry by hand)."""
        most = self.settings.max_attempts
        if attempts >= most:
            log.warning("job %s failed after %d attempts: %s", job_id, attempts, exc.detail)
            self._finish(job_id, "failed", error=JobError(
                error=exc.error, detail=f"{exc.detail} (attempt {attempts} of {most}; retry "
                                        f"the job once the stage is back)"))
            return
        wait = backoff(attempts, self.settings)
        due = now() + timedelta(seconds=wait)
        log.warning("job %s: attempt %d of %d failed (%s); trying again in %.0f s", job_id,
                    attempts, most, exc.detail, wait)
        self.record(job_id, {
            "status": "retrying", "next_attempt_at": due, "claimed_by": None,
            "heartbeat_at": None, "error": JobError(
                error=exc.error, detail=f"{exc.detail} (attempt {attempts} of {most}; the next "
                                        f"at {due:%Y-%m-%d %H:%M:%S} UTC)").model_dump()})

    def _settled(self, job_id: str, job: _OpenJob) -> bool:
        """End the job at once if its call exists: stored before a crash, or (unless forced) the
        same recording already analysed by this pipeline."""
        if self._stored(job_id):
            return True
        if not job.force and (same := self._same_call(job.staged)) is not None:
            self._finish(job_id, "done", call_id=same, deduplicated=True)
            return True
        return False

    def _stored(self, job_id: str) -> bool:
        """End the job as done if a call of it is stored (by a run before a crash, or by a
        twin run that got there first); say whether it was."""
        if (call_id := self.hub.parts.store.of_job(job_id)) is None:
            return False
        self._finish(job_id, "done", call_id=call_id)
        return True

    def _transcribe(self, job_id: str, job: _OpenJob) -> TranscriptionResult:
        clock = _StageClock(self, job_id, job.timings)
        stage1 = self.hub.transcribe_now(job.staged, clock.progress)
        job.timings = clock.stop()
        # The job is in its second half from here, whichever worker takes it on.
        self.record(job_id, {"status": "analyzing", "timings": job.timings,
                              "transcription": stage1.model_dump(mode="json")})
        return stage1

    def _complete(self, job_id: str, job: _OpenJob, stage1: TranscriptionResult) -> int:
        clock = _StageClock(self, job_id, job.timings)
        result = self.hub.process_now(job.staged, clock.progress, stage1)
        self.record(job_id, {"timings": clock.stop()})
        call_id = result.database.call_id
        assert call_id is not None
        return call_id

    def _same_call(self, staged: StagedAudio) -> int | None:
        """A call of this recording by this pipeline with the same keyterms, for the same
        submitter, whose prompt is still the current one."""
        same = self.hub.parts.store.latest_same(
            staged.sha256, call_signature(self.hub.pipeline.signature, staged.keyterms),
            staged.submitted_by)
        if same is None:
            return None
        call_id, domain, category, version = same
        spec = self.hub.parts.prompt_source.get(domain, category)
        return call_id if spec is None or spec.version == version else None

    def record(self, job_id: str, values: dict[str, object]) -> None:
        """Write some of a running job's columns (its status, timings, kept transcription);
        nothing once the job has ended."""
        with self.db.session() as session:
            JobRepository(session).advance(job_id, **values)

    def _finish(self, job_id: str, status: str, *, call_id: int | None = None,
                deduplicated: bool = False, error: JobError | None = None) -> None:
        """End the job once: a run that finds it already ended (done by a redelivered copy of
        itself) changes nothing, deletes nothing and sends no second webhook. A failed job
        keeps its recording and transcription for a retry (FAILED_JOB_RETENTION_DAYS)."""
        done = status == "done"
        kept: dict[str, object] = {"transcription": None} if done else {}
        with self.db.session() as session:
            row = JobRepository(session).advance(
                job_id, status=status, call_id=call_id, deduplicated=deduplicated,
                error=error.model_dump() if error else None, claimed_by=None,
                heartbeat_at=None, next_attempt_at=None, **kept)
            if row is None:
                return
            spool, webhook = row.spool_path, row.webhook_url
        if done:
            Path(spool).unlink(missing_ok=True)
        if webhook:
            self.deliveries.submit(job_id)


def _skipped(job_id: str) -> None:
    # A redelivered or second copy of the job (a broker's, a restart's): never run twice.
    log.info("job %s is held by another run, waits for its retry, or has ended: this copy "
             "does nothing", job_id)


@dataclass
class _OpenJob:
    """What a worker reads of a job before it runs it (timings grow as it runs)."""

    staged: StagedAudio
    force: bool
    timings: dict[str, float]
    transcribed: TranscriptionResult | None
    attempts: int


class _StageClock:
    """Seconds per stage, kept on the job row as its status moves on (one write per status)."""

    def __init__(self, service: JobService, job_id: str, timings: dict[str, float]) -> None:
        self.service = service
        self.job_id = job_id
        self.timings = dict(timings)  # the stages run before (the first half, on another worker)
        self.current: tuple[str, float] | None = None  # the stage under way and when it began

    async def progress(self, status: str) -> None:
        self.stop()
        self.current = (status, time.monotonic())
        values: dict[str, object] = {"status": status, "timings": dict(self.timings)}
        await to_thread.run_sync(self.service.record, self.job_id, values)

    def stop(self) -> dict[str, float]:
        if self.current is not None:
            stage, began = self.current
            self.timings[stage] = round(time.monotonic() - began, 3)
            self.current = None
        return dict(self.timings)
