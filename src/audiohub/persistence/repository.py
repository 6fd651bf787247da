"""All SQL for calls lives here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    and_,
    asc,
    case,
    delete,
    desc,
    false,
    func,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

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
    SortColumn,
    Stats,
    TokenUsage,
)
from audiohub.persistence.models import CallRow, DomainSpecificRow

_SORT_COLUMNS: dict[SortColumn, InstrumentedAttribute[Any]] = {
    "created_at": CallRow.created_at,
    "filename": CallRow.filename,
    "duration_seconds": CallRow.duration_seconds,
    "domain": CallRow.domain,
    "category": CallRow.category,
    "sentiment": CallRow.sentiment_score,
    "outcome": CallRow.call_outcome,
    "needs_review": CallRow.needs_review,
}
# Literals, not bound parameters: PostgreSQL uses the GIN index of migration 0006 only for the
# very expression it indexes, and matches a GROUP BY expression only if it is the same text.
_ENGLISH: ColumnClause[str] = literal_column("'english'::regconfig")
_UTC: ColumnClause[str] = literal_column("'UTC'")
_DAY_FORMAT: ColumnClause[str] = literal_column("'YYYY-MM-DD'")
_WORD = re.compile(r"\w+")


def fts5_query(q: str) -> str | None:
    """The user's words as an FTS5 query that cannot be a syntax error: every word quoted (so
    `OR`, `NEAR`, `"` and brackets are plain text), all required, the last one also matching as
    a prefix (a word still being typed). None when `q` has no words at all."""
    words = _WORD.findall(q)
    if not words:
        return None
    return " ".join(f'"{w}"' for w in words) + "*"


def tsquery(q: str) -> str | None:
    """The same search for PostgreSQL's to_tsquery: every word required, the last one also as
    a prefix. Words only (letters, digits), so no operator or quote of the user's can reach the
    query syntax. None when `q` has no words."""
    words = _WORD.findall(q)
    if not words:
        return None
    return " & ".join([*words[:-1], f"{words[-1]}:*"])


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


class StoredAudio(NamedTuple):
    """What a call's row says of its recording (filed by sha256 and format in the audio
    store), and the job that stored the call."""

    sha256: str
    audio_format: str
    removed: bool
    job_id: str | None


class KeptAudio(NamedTuple):
    """A call that still offers its recording."""

    id: int
    sha256: str
    audio_format: str


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
            call_outcome=x.general_metrics.call_outcome,
            job_id=record.job_id,
            pipeline=record.pipeline,
            submitted_by=record.submitted_by,
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
            submitted_by=row.submitted_by,
            audio_removed=row.audio_removed_at is not None,
        )

    def page(self, f: CallFilter) -> CallPage:
        """One page of the calls `f` selects, in its order; ties are broken by id."""
        conditions = self._conditions(f)
        total = self.session.scalar(
            select(func.count()).select_from(CallRow).where(*conditions)
        ) or 0
        direction = asc if f.order == "asc" else desc
        key = direction(_SORT_COLUMNS[f.sort])
        if f.sort == "outcome":
            # Calls stored before the column existed have none; the two databases would put
            # them at different ends.
            key = key.nulls_last()
        # Only the listed columns: the transcript, segments and metrics JSON stay unread.
        rows = self.session.execute(
            select(CallRow.id, CallRow.created_at, CallRow.filename, CallRow.duration_seconds,
                   CallRow.domain, CallRow.category, CallRow.sentiment_score,
                   CallRow.needs_review, CallRow.call_outcome)
            .where(*conditions).order_by(key, direction(CallRow.id))
            .limit(f.limit).offset(f.offset)
        )
        return CallPage(total=total, items=[
            CallSummary(call_id=r.id, created_at=_aware(r.created_at), filename=r.filename,
                        duration_seconds=r.duration_seconds, domain=r.domain,
                        category=r.category, sentiment=r.sentiment_score,
                        needs_review=r.needs_review, outcome=r.call_outcome)
            for r in rows
        ])

    def _conditions(self, f: CallFilter) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if f.needs_review is not None:
            conditions.append(CallRow.needs_review == f.needs_review)
        if f.domain is not None:
            conditions.append(CallRow.domain == f.domain)
        if f.category is not None:
            conditions.append(CallRow.category == f.category)
        if f.submitted_by is not None:
            conditions.append(CallRow.submitted_by == f.submitted_by)
        if f.since is not None:
            conditions.append(CallRow.created_at >= _utc_midnight(f.since))
        if f.until is not None and f.until < date.max:
            conditions.append(CallRow.created_at < _utc_midnight(f.until + timedelta(days=1)))
        # PostgreSQL refuses NUL in any text, and no transcript has one.
        q = (f.q or "").replace("\x00", " ").strip()
        if q:
            conditions.append(self._matches(q))
        return conditions

    def _matches(self, q: str) -> ColumnElement[bool]:
        """Calls whose transcript has the words of `q`, through the database's own full-text
        index (migration 0006 made it)."""
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            query = tsquery(q)
            if query is None:
                return false()
            return func.to_tsvector(_ENGLISH, CallRow.transcription).bool_op("@@")(
                func.to_tsquery(_ENGLISH, query))
        if dialect == "sqlite":
            query = fts5_query(q)
            if query is None:
                return false()
            return CallRow.id.in_(
                select(literal_column("rowid")).select_from(text("calls_fts"))
                .where(text("calls_fts MATCH :fts_query").bindparams(fts_query=query)))
        # No full-text index elsewhere: every word must appear somewhere in the text.
        words = _WORD.findall(q)
        if not words:
            return false()
        return and_(*(CallRow.transcription.icontains(w, autoescape=True) for w in words))

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(CallRow)) or 0

    def of_job(self, job_id: str) -> int | None:
        """The call a job stored, if it got that far."""
        found: int | None = self.session.scalar(select(CallRow.id).where(CallRow.job_id == job_id))
        return found

    def latest_same(self, audio_sha256: str, pipeline: str,
                    submitted_by: str | None) -> tuple[int, str, str, int] | None:
        """The newest call of this recording made by this pipeline for this submitter: (id,
        domain, category, prompt version), so the caller can check the prompt is still the
        current one. Only the submitter's own: reusing another's call would hand it over."""
        row = self.session.execute(
            select(CallRow.id, CallRow.domain, CallRow.category, CallRow.prompt_version)
            .where(CallRow.audio_sha256 == audio_sha256, CallRow.pipeline == pipeline,
                   CallRow.submitted_by.is_(None) if submitted_by is None
                   else CallRow.submitted_by == submitted_by)
            .order_by(CallRow.id.desc()).limit(1)
        ).first()
        return None if row is None else (row.id, row.domain, row.category, row.prompt_version)

    def stats(self) -> Stats:
        """Totals and averages, each computed by the database (GROUP BY), not from loaded rows."""
        total, avg_duration, avg_sentiment, review = self.session.execute(
            select(func.count(CallRow.id), func.avg(CallRow.duration_seconds),
                   func.avg(CallRow.sentiment_score),
                   func.coalesce(func.sum(case((CallRow.needs_review, 1), else_=0)), 0))
        ).one()
        per_domain = self.session.execute(
            select(CallRow.domain, func.count(), func.avg(CallRow.duration_seconds),
                   func.avg(CallRow.sentiment_score))
            .group_by(CallRow.domain)
        ).all()
        by_category = {
            f"{d}/{c}": n
            for d, c, n in self.session.execute(
                select(CallRow.domain, CallRow.category, func.count())
                .group_by(CallRow.domain, CallRow.category)
            )
        }
        day = self._utc_day(CallRow.created_at)
        calls_per_day: dict[str, int] = {
            str(d): n for d, n in self.session.execute(
                select(day, func.count()).group_by(day).order_by(day))
        }
        return Stats(
            total_calls=total,
            by_domain={d: n for d, n, _, _ in per_domain},
            by_category=by_category,
            average_duration_seconds=_rounded(avg_duration, 2),
            average_sentiment=_rounded(avg_sentiment, 4),
            calls_per_day=calls_per_day,
            average_sentiment_by_domain={d: round(s, 4) for d, _, _, s in per_domain},
            average_duration_by_domain={d: round(t, 2) for d, _, t, _ in per_domain},
            needs_review_count=review,
            needs_review_rate=round(review / total, 4) if total else None,
        )

    def _utc_day(self, column: InstrumentedAttribute[datetime]) -> ColumnElement[str]:
        """`column`'s UTC day as 'YYYY-MM-DD'. SQLite keeps the UTC time as text; PostgreSQL's
        own date() would use the session's time zone."""
        if self.session.get_bind().dialect.name == "postgresql":
            return func.to_char(func.timezone(_UTC, column), _DAY_FORMAT)
        return func.date(column)

    def audio_of(self, call_id: int) -> StoredAudio | None:
        """The call's recording as its row names it, or None when there is no such call."""
        row = self.session.execute(
            select(CallRow.audio_sha256, CallRow.audio_format, CallRow.audio_removed_at,
                   CallRow.job_id).where(CallRow.id == call_id)
        ).first()
        return None if row is None else StoredAudio(row[0], row[1], row[2] is not None, row[3])

    def delete(self, call_id: int) -> None:
        """Remove the call and its domain data. SQLite's trigger (calls_fts_delete) takes its
        words out of the search index; PostgreSQL's index is on the column itself."""
        self.session.execute(delete(DomainSpecificRow)
                             .where(DomainSpecificRow.call_id == call_id))
        self.session.execute(delete(CallRow).where(CallRow.id == call_id))

    def audio_in_use(self, audio_sha256: str) -> bool:
        """Whether a call still offers this recording (one whose audio retention kept)."""
        found = self.session.scalar(
            select(CallRow.id).where(CallRow.audio_sha256 == audio_sha256,
                                     CallRow.audio_removed_at.is_(None)).limit(1))
        return found is not None

    # --- retention ------------------------------------------------------------------------------

    def created_before(self, cutoff: datetime) -> list[int]:
        """Ids of the calls stored before `cutoff`, oldest first."""
        return list(self.session.scalars(
            select(CallRow.id).where(CallRow.created_at < cutoff).order_by(CallRow.id)))

    def audio_kept_before(self, cutoff: datetime,
                          floor: datetime | None = None) -> list[KeptAudio]:
        """The calls stored before `cutoff` (and at or after `floor`) that still offer their
        recording, oldest first."""
        where = [CallRow.created_at < cutoff, CallRow.audio_removed_at.is_(None)]
        if floor is not None:
            where.append(CallRow.created_at >= floor)
        rows = self.session.execute(
            select(CallRow.id, CallRow.audio_sha256, CallRow.audio_format)
            .where(*where).order_by(CallRow.id))
        return [KeptAudio(r[0], r[1], r[2]) for r in rows]

    def audio_needed_since(self, hashes: set[str], cutoff: datetime) -> set[str]:
        """Which of these recordings a call stored at or after `cutoff` still offers."""
        if not hashes:
            return set()
        return set(self.session.scalars(
            select(CallRow.audio_sha256).distinct()
            .where(CallRow.audio_sha256.in_(hashes), CallRow.created_at >= cutoff,
                   CallRow.audio_removed_at.is_(None))))

    def mark_audio_removed(self, ids: list[int], when: datetime) -> None:
        if ids:
            self.session.execute(update(CallRow).where(CallRow.id.in_(ids))
                                 .values(audio_removed_at=when))

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


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back the stored UTC time without its zone.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
