"""Jobs: a recording accepted now (stored before the 202), analysed in the background, its
status, timings and result kept, and a signed webhook sent when it ends.

`process(job_id)` is the task every queue backend runs; Celery splits it in two queues, running
`transcribe(job_id)` first, which keeps the transcription on the job for `process` to go on from.
Either can be run again for the same job (a crash, a redelivery) without storing a second call:
a finished job is left alone, a kept transcription is not made again, and a call the job already
stored is found by its job id.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from anyio import to_thread
from sqlalchemy.exc import IntegrityError

from audiohub.domain import TranscriptionResult
from audiohub.errors import AudioHubError, ConfigurationError, NotFoundError
from audiohub.gateway.hub import Hub
from audiohub.gateway.pipeline import StagedAudio
from audiohub.gateway.uploads import stage_stream
from audiohub.jobs.base import JobQueue
from audiohub.jobs.models import JobRow
from audiohub.jobs.repository import JobRepository, to_job
from audiohub.jobs.schemas import UNFINISHED, Job, JobAccepted, JobError, JobPage
from audiohub.jobs.webhooks import WebhookAttempt, check_webhook_url, deliver

log = logging.getLogger("audiohub")

JOBS_NEED_DATABASE = ("jobs need the calls' database: set DATABASE_URL on the gateway (the one "
                      "the persistence service uses), or unset PERSISTENCE_SERVICE_URL")


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

    # --- accepting --------------------------------------------------------------------------

    def submit(self, source: BinaryIO, filename: str | None, webhook_url: str | None = None,
               idempotency_key: str | None = None, force: bool = False,
               submitted_by: str | None = None) -> JobAccepted:
        """Store the recording and the job, then queue it. The same Idempotency-Key returns the
        job it first made, whatever is sent with it."""
        if webhook_url:
            check_webhook_url(webhook_url)
        if idempotency_key and submitted_by:
            # Each user's or key's own: the same key from someone else is another job, and never
            # hands them the first one's id.
            idempotency_key = hashlib.sha256(
                f"{submitted_by}\0{idempotency_key}".encode()).hexdigest()
        if idempotency_key and (known := self._by_key(idempotency_key)) is not None:
            return known
        job_id = uuid.uuid4().hex
        staged = stage_stream(source, filename, self.spool / "tmp",
                              self.hub.settings.max_upload_bytes)
        spool = self.spool / f"{job_id}{Path(staged.filename).suffix[:16]}"
        staged.path.replace(spool)
        row = JobRow(id=job_id, status="queued", filename=staged.filename,
                     audio_sha256=staged.sha256, spool_path=str(spool), webhook_url=webhook_url,
                     idempotency_key=idempotency_key, force=force, timings={},
                     submitted_by=submitted_by,
                     webhook_attempts=[])
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

    def _by_key(self, key: str) -> JobAccepted | None:
        with self.db.session() as session:
            row = JobRepository(session).by_key(key)
            return None if row is None else JobAccepted(
                job_id=row.id, status=row.status,  # type: ignore[arg-type]
                deduplicated=row.deduplicated)

    def recover(self) -> int:
        """Queue again every job a stop or crash left unfinished; returns how many."""
        with self.db.session() as session:
            ids = JobRepository(session).unfinished(UNFINISHED)
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
        job = self._open(job_id)
        if job is None:
            return
        with self._failing(job_id):
            if not self._settled(job_id, job):
                stage1 = job.transcribed or self._transcribe(job_id, job)
                self._finish(job_id, "done", call_id=self._complete(job_id, job, stage1))

    def transcribe(self, job_id: str) -> bool:
        """Only the first half (the Celery transcription task): transcribe, keep the result on
        the job, and say whether the job now waits for its analysis (`process`). False when it
        has ended instead: done before, deduplicated, or failed."""
        job = self._open(job_id)
        if job is None:
            return False
        if job.transcribed is not None:  # a redelivery after the transcription was kept
            return True
        with self._failing(job_id):
            if self._settled(job_id, job):
                return False
            self._transcribe(job_id, job)
            return True
        return False  # failed, and the job says why

    def fail(self, job_id: str, error: AudioHubError) -> None:
        """End a job that cannot go on (its analysis could not be queued)."""
        self._finish(job_id, "failed", error=JobError(error=error.error, detail=error.detail))

    def _open(self, job_id: str) -> _OpenJob | None:
        """The job to work on, or None when there is none or it has ended."""
        with self.db.session() as session:
            row = JobRepository(session).get(job_id)
            if row is None or row.status not in UNFINISHED:
                return None
            return _OpenJob(
                staged=StagedAudio(path=Path(row.spool_path), sha256=row.audio_sha256,
                                   filename=row.filename, job_id=row.id,
                                   submitted_by=row.submitted_by),
                force=row.force, timings=dict(row.timings or {}),
                transcribed=(TranscriptionResult.model_validate(row.transcription)
                             if row.transcription else None))

    @contextmanager
    def _failing(self, job_id: str) -> Iterator[None]:
        """Whatever goes wrong, the job ends failed and says why, unless its call was stored
        after all (a second run of it got there first and this one tripped over that)."""
        try:
            yield
        except Exception as exc:  # the job must end either way; the log keeps the traceback
            if self._stored(job_id):
                return
            if isinstance(exc, AudioHubError):
                self.fail(job_id, exc)
                return
            log.exception("job %s failed", job_id)
            self._finish(job_id, "failed", error=JobError(
                error="internal_error", detail=f"{type(exc).__name__}: {exc}"))

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
        """A call of this recording by this pipeline, for the same submitter, whose prompt is
        still the current one."""
        same = self.hub.parts.store.latest_same(staged.sha256, self.hub.pipeline.signature,
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
        itself) changes nothing, deletes nothing and sends no second webhook."""
        with self.db.session() as session:
            row = JobRepository(session).advance(
                job_id, status=status, call_id=call_id, deduplicated=deduplicated,
                error=error.model_dump() if error else None, transcription=None)
            if row is None:
                return
            spool, webhook = row.spool_path, row.webhook_url
        Path(spool).unlink(missing_ok=True)
        if webhook:  # the job as GET /api/jobs/{id} shows it, result included
            try:
                self._notify(self.get(job_id))
            except Exception:  # the job has ended either way; a lost webhook is logged
                log.exception("job %s: the webhook could not be sent", job_id)

    def _notify(self, job: Job) -> None:
        attempts: list[dict[str, object]] = []

        def record(attempt: WebhookAttempt) -> None:
            attempts.append(attempt.model_dump(mode="json"))
            with self.db.session() as session:  # the job has ended: not `self.record`
                JobRepository(session).update(job.job_id, webhook_attempts=list(attempts))

        settings = self.hub.settings.jobs
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        payload = {"event": f"job.{job.status}", "job": job.model_dump(mode="json")}
        assert job.webhook_url is not None
        deliver(job.webhook_url, payload, secret, attempts=settings.webhook_attempts,
                backoff_s=settings.webhook_backoff_seconds, record=record)


@dataclass
class _OpenJob:
    """What a worker reads of a job before it runs it (timings grow as it runs)."""

    staged: StagedAudio
    force: bool
    timings: dict[str, float]
    transcribed: TranscriptionResult | None


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
