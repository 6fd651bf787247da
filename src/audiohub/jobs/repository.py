"""All SQL for jobs lives here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from audiohub.jobs.models import JobRow
from audiohub.jobs.schemas import PROGRESS, UNFINISHED, Job, JobError


def to_job(row: JobRow) -> Job:
    return Job(
        job_id=row.id, status=row.status, progress=PROGRESS[row.status],  # type: ignore[arg-type]
        created_at=row.created_at, updated_at=row.updated_at, filename=row.filename,
        audio_sha256=row.audio_sha256, call_id=row.call_id, deduplicated=row.deduplicated,
        timings=dict(row.timings or {}), error=JobError(**row.error) if row.error else None,
        webhook_url=row.webhook_url, webhook_attempts=list(row.webhook_attempts or []),
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
        """Ids of jobs in these statuses, oldest first (what a restart must pick up)."""
        return list(self.session.scalars(
            select(JobRow.id).where(JobRow.status.in_(statuses)).order_by(JobRow.created_at)))

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

    def update(self, job_id: str, **values: Any) -> JobRow | None:
        row = self.session.get(JobRow, job_id)
        if row is not None:
            for key, value in values.items():
                setattr(row, key, value)
        return row
