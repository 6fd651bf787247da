"""All SQL for jobs lives here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.orm import Session

from audiohub.jobs.models import JobRow
from audiohub.jobs.schemas import (
    PROGRESS,
    UNFINISHED,
    Job,
    JobError,
    JobOptions,
    WebhookAttempt,
)

# A job is taken (claimed) only in these statuses: `retrying` waits for its time (the sweeper
# queues it again), and a status after `queued` is a job between its halves or left by a crash.
RUNNABLE = tuple(s for s in UNFINISHED if s != "retrying")


def to_job(row: JobRow) -> Job:
    # A retrying job is as far along as its kept work: past the transcription, or not.
    progress = PROGRESS["analyzing"] if row.status == "retrying" and row.transcription else (
        PROGRESS[row.status])
    return Job(
        job_id=row.id, status=row.status, progress=progress,  # type: ignore[arg-type]
        created_at=row.created_at, updated_at=row.updated_at, filename=row.filename,
        audio_sha256=row.audio_sha256, call_id=row.call_id, deduplicated=row.deduplicated,
        keyterms=JobOptions.of(row.options).keyterms,
        timings=dict(row.timings or {}), error=JobError(**row.error) if row.error else None,
        webhook_url=row.webhook_url,
        webhook_attempts=[WebhookAttempt.model_validate(a) for a in row.webhook_attempts or []],
        submitted_by=row.submitted_by,
    )


class JobRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: JobRow) -> None:
        self.session.add(row)
        self.session.flush()

    def get(self, job_id: str) -> JobRow | None:
        return self.session.get(JobRow, job_id)

    def by_key(self, key: str) -> JobRow | None:
        row: JobRow | None = self.session.scalar(
            select(JobRow).where(JobRow.idempotency_key == key))
        return row

    def unfinished(self, statuses: tuple[str, ...]) -> list[str]:
        """Ids of jobs in these statuses that no run holds, oldest first (what a restart must
        pick up; a held one is its holder's, or the sweeper's once the holder is silent)."""
        return list(self.session.scalars(
            select(JobRow.id).where(JobRow.status.in_(statuses), JobRow.claimed_by.is_(None))
            .order_by(JobRow.created_at)))

    def ended_with_webhook(self, since: datetime) -> list[tuple[str, list[dict[str, Any]]]]:
        """Jobs that ended since `since` and have a webhook_url, with their attempts so far,
        oldest first (what a restart looks through for deliveries left unfinished)."""
        rows = self.session.execute(
            select(JobRow.id, JobRow.webhook_attempts)
            .where(JobRow.status.in_(("done", "failed")), JobRow.webhook_url.is_not(None),
                   JobRow.updated_at >= since).order_by(JobRow.updated_at))
        return [(job_id, list(attempts or [])) for job_id, attempts in rows]

    def page(self, status: str | None, limit: int, offset: int,
             owner: str | None = None) -> tuple[int, list[JobRow]]:
        where = [JobRow.status == status] if status else []
        if owner is not None:
            where.append(JobRow.submitted_by == owner)
        total = self.session.scalar(select(func.count()).select_from(JobRow).where(*where)) or 0
        rows = self.session.scalars(select(JobRow).where(*where)
                                    .order_by(JobRow.created_at.desc()).limit(limit)
                                    .offset(offset))
        return total, list(rows)

    def delete(self, job_id: str) -> None:
        row = self.session.get(JobRow, job_id)
        if row is not None:
            self.session.delete(row)

    def delete_of_call(self, call_id: int, job_id: str | None) -> list[str]:
        """Remove the jobs that stored this call (`job_id`, the call's own) or found it stored
        already (deduplicated); their spool paths, for the caller to remove after the commit
        (a finished job's file is gone already)."""
        which = JobRow.call_id == call_id
        if job_id is not None:
            which = or_(which, JobRow.id == job_id)
        spools = list(self.session.scalars(select(JobRow.spool_path).where(which)))
        self.session.execute(delete(JobRow).where(which))
        return spools

    def advance(self, job_id: str, **values: Any) -> JobRow | None:
        """Move a job that has not ended yet on (its status, timings, its end), in one
        conditional UPDATE; None when another run of it (a redelivery, a second analysis)
        ended it first, which must then stand."""
        changed = self.session.execute(
            update(JobRow).where(JobRow.id == job_id, JobRow.status.in_(UNFINISHED))
            .values(**values).execution_options(synchronize_session=False))
        if getattr(changed, "rowcount", 0) == 0:
            return None
        return self.session.get(JobRow, job_id)

    def unfinished_count(self) -> int:
        """Jobs not ended yet: queued, retrying or running (what MAX_QUEUED_JOBS bounds)."""
        return self.session.scalar(select(func.count()).select_from(JobRow)
                                   .where(JobRow.status.in_(UNFINISHED))) or 0

    # --- one holder at a time, and what happens when a holder goes silent ---------------------

    def claim(self, job_id: str, token: str, now: datetime) -> bool:
        """Take the job for one run, unless someone holds it (a live worker, or a dead one the
        sweeper has not released yet). A run from `queued` is one more attempt."""
        changed = self.session.execute(
            update(JobRow).where(JobRow.id == job_id, JobRow.status.in_(RUNNABLE),
                                 JobRow.claimed_by.is_(None))
            .values(claimed_by=token, heartbeat_at=now, next_attempt_at=None,
                    attempts=JobRow.attempts + case((JobRow.status == "queued", 1), else_=0),
                    updated_at=JobRow.updated_at)
            .execution_options(synchronize_session=False))
        return bool(getattr(changed, "rowcount", 0))

    def heartbeat(self, job_id: str, token: str, now: datetime) -> bool:
        """Say the holder is alive; False when it no longer holds the job (the job ended, or
        the holder was silent so long that the sweeper released it)."""
        changed = self.session.execute(
            update(JobRow).where(JobRow.id == job_id, JobRow.claimed_by == token)
            .values(heartbeat_at=now, updated_at=JobRow.updated_at)  # not news to a reader
            .execution_options(synchronize_session=False))
        return bool(getattr(changed, "rowcount", 0))

    def release(self, job_id: str, token: str) -> None:
        self.session.execute(
            update(JobRow).where(JobRow.id == job_id, JobRow.claimed_by == token)
            .values(claimed_by=None, heartbeat_at=None, updated_at=JobRow.updated_at)
            .execution_options(synchronize_session=False))

    def stale(self, cutoff: datetime, limit: int = 100) -> list[tuple[str, str]]:
        """Held jobs whose holder has not been heard from since `cutoff`: (id, holder)."""
        rows = self.session.execute(
            select(JobRow.id, JobRow.claimed_by)
            .where(JobRow.claimed_by.is_not(None), JobRow.heartbeat_at < cutoff)
            .order_by(JobRow.heartbeat_at).limit(limit))
        return [(job_id, holder) for job_id, holder in rows if holder]

    def due(self, now: datetime, limit: int = 100) -> list[str]:
        """Retrying jobs whose next attempt is due, oldest due first."""
        return list(self.session.scalars(
            select(JobRow.id).where(JobRow.status == "retrying", JobRow.next_attempt_at <= now)
            .order_by(JobRow.next_attempt_at).limit(limit)))

    def requeue_stale(self, job_id: str, holder: str, cutoff: datetime) -> bool:
        """Release a dead holder's job and put it back as queued (its kept transcription
        stays); False when another sweeper, or the holder itself, got there first."""
        return self._move(
            (JobRow.id == job_id, JobRow.claimed_by == holder, JobRow.heartbeat_at < cutoff,
             JobRow.status.in_(UNFINISHED)),
            status="queued", claimed_by=None, heartbeat_at=None)

    def requeue_due(self, job_id: str, now: datetime) -> bool:
        """Put a retrying job whose time has come back as queued; False when another
        sweeper got there first."""
        return self._move((JobRow.id == job_id, JobRow.status == "retrying",
                           JobRow.next_attempt_at <= now),
                          status="queued", next_attempt_at=None)

    def postpone(self, job_id: str, at: datetime) -> bool:
        """A job queued again whose message could not be sent (the broker was away): back to
        retrying, due at `at`."""
        return self._move((JobRow.id == job_id, JobRow.status == "queued",
                           JobRow.claimed_by.is_(None)),
                          status="retrying", next_attempt_at=at)

    def retry_failed(self, job_id: str) -> bool:
        """A failed job queued again by hand, with all its attempts ahead of it."""
        return self._move((JobRow.id == job_id, JobRow.status == "failed"),
                          status="queued", attempts=0, error=None, next_attempt_at=None,
                          claimed_by=None, heartbeat_at=None, webhook_attempts=[])

    def _move(self, where: tuple[Any, ...], **values: Any) -> bool:
        changed = self.session.execute(update(JobRow).where(*where).values(**values)
                                       .execution_options(synchronize_session=False))
        return bool(getattr(changed, "rowcount", 0))

    def failed_before(self, cutoff: datetime, limit: int = 500) -> list[tuple[str, str]]:
        """Failed jobs that ended before `cutoff` and still keep a recording: (id, path)."""
        rows = self.session.execute(
            select(JobRow.id, JobRow.spool_path)
            .where(JobRow.status == "failed", JobRow.updated_at < cutoff, JobRow.spool_path != "")
            .order_by(JobRow.updated_at).limit(limit))
        return [(job_id, path) for job_id, path in rows]

    def drop_recording(self, job_id: str) -> bool:
        """Mark a failed job's recording (and kept transcription) gone: it can no longer be
        retried. False if it was retried since."""
        return self._move((JobRow.id == job_id, JobRow.status == "failed"),
                          spool_path="", transcription=None, updated_at=JobRow.updated_at)

    def update(self, job_id: str, **values: Any) -> JobRow | None:
        row = self.session.get(JobRow, job_id)
        if row is not None:
            for key, value in values.items():
                setattr(row, key, value)
        return row
