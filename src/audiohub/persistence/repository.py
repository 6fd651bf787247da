"""All SQL for calls lives here."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audiohub.domain import (
    CallFilter,
    CallPage,
    CallRecord,
    CallResult,
    CallSummary,
    DatabaseStatus,
    Evidence,
    GeneralMetrics,
    Segment,
    Stats,
    TokenUsage,
)
from audiohub.persistence.models import CallRow, DomainSpecificRow


class CallRepository:
    """Reads and writes `calls` and `domain_specific` within the caller's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, record: CallRecord) -> int:
        t, c, x = record.transcript, record.classification, record.extraction
        row = CallRow(
            filename=record.filename[:255],
            audio_sha256=record.audio_sha256,
            audio_format=record.audio_format,
            duration_seconds=t.duration,
            language=t.language,
            transcription=t.text,
            segments=[s.model_dump() for s in t.segments],
            domain=c.domain,
            category=c.category,
            classification_score=c.score,
            sentiment_score=x.general_metrics.sentiment.score,
            general_metrics=x.general_metrics.model_dump(),
            token_usage=record.token_usage.model_dump(),
            prompt_version=record.prompt_version,
            needs_review=x.general_metrics.needs_review,
            job_id=record.job_id,
            pipeline=record.pipeline,
        )
        row.domain_specific = DomainSpecificRow(
            domain=c.domain,
            category=c.category,
            data=x.domain_specific_data,
            evidence={k: v.model_dump() for k, v in x.evidence.items()},
        )
        self.session.add(row)
        self.session.flush()  # assigns the id inside the caller's transaction
        return row.id

    def get(self, call_id: int) -> CallResult | None:
        row = self.session.get(CallRow, call_id)
        if row is None:
            return None
        ds = row.domain_specific
        return CallResult(
            filename=row.filename,
            transcription=row.transcription,
            domain=row.domain,
            category=row.category,
            domain_specific_data=ds.data if ds else {},
            evidence={k: Evidence(**v) for k, v in (ds.evidence if ds else {}).items()},
            general_metrics=GeneralMetrics(**row.general_metrics),
            database=DatabaseStatus(success=True, call_id=row.id),
            token_usage=TokenUsage(**row.token_usage),
            segments=[Segment(**s) for s in row.segments],
        )

    def page(self, f: CallFilter) -> CallPage:
        """Newest first, filtered."""
        conditions = []
        if f.needs_review is not None:
            conditions.append(CallRow.needs_review == f.needs_review)
        if f.domain is not None:
            conditions.append(CallRow.domain == f.domain)
        if f.category is not None:
            conditions.append(CallRow.category == f.category)
        total = self.session.scalar(
            select(func.count()).select_from(CallRow).where(*conditions)
        ) or 0
        # Only the listed columns: the transcript, segments and metrics JSON stay unread.
        rows = self.session.execute(
            select(CallRow.id, CallRow.created_at, CallRow.filename, CallRow.duration_seconds,
                   CallRow.domain, CallRow.category, CallRow.sentiment_score,
                   CallRow.needs_review)
            .where(*conditions).order_by(CallRow.id.desc()).limit(f.limit).offset(f.offset)
        )
        return CallPage(total=total, items=[
            CallSummary(call_id=r.id, created_at=r.created_at, filename=r.filename,
                        duration_seconds=r.duration_seconds, domain=r.domain,
                        category=r.category, sentiment=r.sentiment_score,
                        needs_review=r.needs_review)
            for r in rows
        ])

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(CallRow)) or 0

    def of_job(self, job_id: str) -> int | None:
        """The call a job stored, if it got that far."""
        found: int | None = self.session.scalar(select(CallRow.id).where(CallRow.job_id == job_id))
        return found

    def latest_same(self, audio_sha256: str, pipeline: str) -> tuple[int, str, str, int] | None:
        """The newest call of this recording made by this pipeline: (id, domain, category,
        prompt version), so the caller can check the prompt is still the current one."""
        row = self.session.execute(
            select(CallRow.id, CallRow.domain, CallRow.category, CallRow.prompt_version)
            .where(CallRow.audio_sha256 == audio_sha256, CallRow.pipeline == pipeline)
            .order_by(CallRow.id.desc()).limit(1)
        ).first()
        return None if row is None else (row.id, row.domain, row.category, row.prompt_version)

    def stats(self) -> Stats:
        total, avg_duration, avg_sentiment = self.session.execute(
            select(func.count(CallRow.id), func.avg(CallRow.duration_seconds),
                   func.avg(CallRow.sentiment_score))
        ).one()
        by_domain: dict[str, int] = {
            d: n for d, n in self.session.execute(
                select(CallRow.domain, func.count()).group_by(CallRow.domain)
            )
        }
        by_category = {
            f"{d}/{c}": n
            for d, c, n in self.session.execute(
                select(CallRow.domain, CallRow.category, func.count())
                .group_by(CallRow.domain, CallRow.category)
            )
        }
        return Stats(
            total_calls=total,
            by_domain=by_domain,
            by_category=by_category,
            average_duration_seconds=None if avg_duration is None else round(avg_duration, 2),
            average_sentiment=None if avg_sentiment is None else round(avg_sentiment, 4),
        )

    def export_rows(self, since: datetime | None = None,
                    until_id: int | None = None) -> Iterator[dict[str, Any]]:
        """Calls oldest first (created at or after `since`, id at most `until_id`), streamed in
        batches: the listed columns, the domain data and the summary and outcome of the
        general metrics (the transcript, segments and evidence stay unread)."""
        conditions = []
        if since is not None:
            conditions.append(CallRow.created_at >= since)
        if until_id is not None:
            conditions.append(CallRow.id <= until_id)
        rows = self.session.execute(
            select(CallRow.id, CallRow.created_at, CallRow.filename, CallRow.duration_seconds,
                   CallRow.domain, CallRow.category, CallRow.sentiment_score,
                   CallRow.needs_review, CallRow.general_metrics["summary"].as_string(),
                   CallRow.general_metrics["call_outcome"].as_string(), DomainSpecificRow.data)
            .outerjoin(DomainSpecificRow, DomainSpecificRow.call_id == CallRow.id)
            .where(*conditions).order_by(CallRow.id)
            .execution_options(yield_per=500)
        )
        for r in rows:
            yield {"id": r[0], "created_at": r[1], "filename": r[2], "duration_seconds": r[3],
                   "domain": r[4], "category": r[5], "sentiment": r[6], "needs_review": r[7],
                   "summary": r[8], "call_outcome": r[9], "fields": dict(r[10] or {})}
