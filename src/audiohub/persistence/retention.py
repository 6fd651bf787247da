"""Retention: RETENTION_DAYS deletes whole calls older than that; AUDIO_RETENTION_DAYS removes
only their recordings and keeps the analysis. `purge` runs once a day inside the server and the
worker (`DailyPurge`), and on demand with `audiohub purge [--dry-run]`.

A recording is filed once however many calls hold the same audio, so its file goes only when no
call that still offers it is left. The audit trail is never purged: each purge adds its row.

FAILED_JOB_RETENTION_DAYS (default 7) is apart from these and always on: a failed job keeps its
spooled recording for a retry that long, then `expire_failed_jobs` (the gateway's job sweeper,
hourly) removes it; the job's row stays, saying why it failed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from audiohub.access.schemas import AuditAction
from audiohub.access.service import AccessService
from audiohub.config import AuthSettings, Settings
from audiohub.errors import NotFoundError
from audiohub.jobs.repository import JobRepository
from audiohub.persistence.db import Database
from audiohub.persistence.repository import CallRepository
from audiohub.persistence.service import SqlStore

log = logging.getLogger("audiohub")
T = TypeVar("T")

# Rows per IN (...) list: far below SQLite's and PostgreSQL's limits on bound parameters.
_BATCH = 500


class PurgeReport(BaseModel):
    """What a purge removed (or, with `dry_run`, would remove)."""

    dry_run: bool
    retention_days: int | None
    audio_retention_days: int | None
    calls_deleted: list[int]
    # Calls whose recording the policy removed; their analysis is kept.
    audio_removed: list[int]
    # Recording files taken off disk by the audio policy (one file may serve several calls).
    files_removed: int

    def lines(self) -> list[str]:
        """One line per removal, then the totals: what `audiohub purge` prints."""
        verb = "would delete" if self.dry_run else "deleted"
        out = [f"call {i}: {verb} (RETENTION_DAYS={self.retention_days})"
               for i in self.calls_deleted]
        verb = "would remove" if self.dry_run else "removed"
        out += [f"call {i}: {verb} the recording, kept the analysis "
                f"(AUDIO_RETENTION_DAYS={self.audio_retention_days})" for i in self.audio_removed]
        return [*out, self.summary()]

    def summary(self) -> str:
        head = "dry run: would delete" if self.dry_run else "deleted"
        return (f"{head} {len(self.calls_deleted)} calls and the recordings of "
                f"{len(self.audio_removed)} more ({self.files_removed} files)")


def policy_set(settings: AuthSettings) -> bool:
    return bool(settings.retention_days or settings.audio_retention_days)


def purge(store: SqlStore, settings: Settings, now: datetime | None = None,
          dry_run: bool = False, actor: str = "retention") -> PurgeReport:
    """Apply RETENTION_DAYS and AUDIO_RETENTION_DAYS as of `now` (default: now).

    Whole calls go through `SqlStore.delete`, the same path as DELETE /api/calls/{id}. A dry
    run reads the same lists and changes nothing. A real run writes one `purge` audit row.
    """
    policy = settings.auth
    now = (now or datetime.now(UTC)).astimezone(UTC)
    floor: datetime | None = None
    deleted: list[int] = []
    if policy.retention_days:
        floor = now - timedelta(days=policy.retention_days)
        with store.db.session() as session:
            expired = CallRepository(session).created_before(floor)
        for call_id in expired:
            if not dry_run:
                try:
                    store.delete(call_id)
                except NotFoundError:  # a purge in another process (or an admin) was first
                    continue
            deleted.append(call_id)
    audio: list[int] = []
    files = 0
    if policy.audio_retention_days:
        cutoff = now - timedelta(days=policy.audio_retention_days)
        audio, files = _expire_audio(store, cutoff, floor, now, dry_run)
    report = PurgeReport(dry_run=dry_run, retention_days=policy.retention_days,
                         audio_retention_days=policy.audio_retention_days,
                         calls_deleted=deleted, audio_removed=audio, files_removed=files)
    if not dry_run:
        AccessService(store.db, policy, settings.data_dir).audit(
            actor, AuditAction.PURGE, detail=_detail(report))
    return report


def _expire_audio(store: SqlStore, cutoff: datetime, floor: datetime | None, now: datetime,
                  dry_run: bool) -> tuple[list[int], int]:
    """Mark the recordings of calls stored before `cutoff` removed, and delete each file no
    call stored since `cutoff` still offers. Calls before `floor` are RETENTION_DAYS' to
    delete whole (a dry run still sees them), so they are left out here."""
    with store.db.session() as session:
        repo = CallRepository(session)
        expiring = repo.audio_kept_before(cutoff, floor)
        hashes = sorted({c.sha256 for c in expiring})
        needed: set[str] = set()
        for hash_batch in _batches(hashes):
            needed |= repo.audio_needed_since(set(hash_batch), cutoff)
        ids = [c.id for c in expiring]
        if not dry_run:
            for id_batch in _batches(ids):
                repo.mark_audio_removed(id_batch, now)
    # After the commit, as a delete does: a failed transaction leaves every file in place.
    gone = {(c.sha256, c.audio_format) for c in expiring if c.sha256 not in needed}
    if not dry_run:
        for sha256, audio_format in gone:
            store.files.remove(sha256, audio_format)
    return ids, len(gone)


def _batches(items: list[T]) -> Iterator[list[T]]:
    for start in range(0, len(items), _BATCH):
        yield items[start:start + _BATCH]


def _detail(report: PurgeReport) -> str:
    """The audit row's text: the counts, then as many call ids as its 500 characters hold."""
    ids = ",".join(map(str, report.calls_deleted))
    audio = ",".join(map(str, report.audio_removed))
    return (f"{report.summary()}; RETENTION_DAYS={report.retention_days} "
            f"AUDIO_RETENTION_DAYS={report.audio_retention_days}; deleted [{ids}]; "
            f"recordings [{audio}]")[:500]


def expire_failed_jobs(db: Database, days: float, now: datetime | None = None) -> int:
    """Remove the recordings (and kept transcriptions) of jobs that failed more than `days`
    ago; they can no longer be retried. Returns how many jobs lost theirs."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    removed = 0
    while True:
        with db.session() as session:
            batch = JobRepository(session).failed_before(cutoff, _BATCH)
        for job_id, path in batch:
            with db.session() as session:
                if not JobRepository(session).drop_recording(job_id):
                    continue  # retried since
            Path(path).unlink(missing_ok=True)  # after the commit, as a delete does
            removed += 1
        if len(batch) < _BATCH:
            return removed


class DailyPurge:
    """`purge` at start and every day after, in a daemon thread, until `stop`."""

    def __init__(self, store: SqlStore, settings: Settings,
                 every: timedelta = timedelta(days=1),
                 retry: timedelta = timedelta(hours=1)) -> None:
        self.store = store
        self.settings = settings
        self.every = every
        self.retry = retry
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retention", daemon=True)

    def start(self) -> DailyPurge:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = self.every
            try:
                log.info("retention: %s", purge(self.store, self.settings).summary())
            except Exception:  # a database down for a while must not end retention for good
                log.exception("retention: the purge failed; trying again in %s", self.retry)
                wait = self.retry
            self._stop.wait(wait.total_seconds())
