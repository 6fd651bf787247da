"""The persistence stage: one transaction for the call and its domain data, audio kept beside."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from audiohub.domain import CallFilter, CallPage, CallRecord, CallResult, Stats
from audiohub.errors import NotFoundError, StorageError
from audiohub.jobs.repository import JobRepository
from audiohub.persistence.audio_store import AudioStore
from audiohub.persistence.db import Database
from audiohub.persistence.repository import CallRepository
from audiohub.persistence.schemas import Deleted

# By the stored file's extension (the container the transcription stage found), so a browser's
# <audio> element is told what it is playing.
MEDIA_TYPES = {
    "wav": "audio/wav", "mp3": "audio/mpeg", "m4a": "audio/mp4", "mp4": "audio/mp4",
    "ogg": "audio/ogg", "opus": "audio/ogg", "flac": "audio/flac", "webm": "audio/webm",
    "mka": "audio/x-matroska", "aac": "audio/aac", "adts": "audio/aac", "aiff": "audio/aiff",
    "amr": "audio/amr",
}


class SqlStore:
    """`Store` on SQLAlchemy (SQLite by default, PostgreSQL with DATABASE_URL)."""

    def __init__(self, db: Database, files: AudioStore) -> None:
        self.db = db
        self.files = files

    def save(self, record: CallRecord, audio: Path) -> int:
        # Audio first, rows second: if the transaction fails we remove the file we added, so a
        # failed save leaves neither a row pointing at nothing nor an orphaned recording.
        try:
            _, created = self.files.put(audio, record.audio_sha256, record.audio_format)
        except OSError as exc:
            raise StorageError(f"could not store the recording: {exc}") from exc
        try:
            with self.db.session() as session:
                return CallRepository(session).add(record)
        except BaseException as exc:
            if created:
                self.files.remove(record.audio_sha256, record.audio_format)
            if isinstance(exc, SQLAlchemyError):
                raise StorageError(
                    f"the database refused the call, nothing was stored: {exc}"
                ) from exc
            raise

    def get(self, call_id: int) -> CallResult:
        with self.db.session() as session:
            result = CallRepository(session).get(call_id)
        if result is None:
            raise NotFoundError(f"no call with id {call_id}")
        return result

    def page(self, f: CallFilter) -> CallPage:
        with self.db.session() as session:
            return CallRepository(session).page(f)

    def audio(self, call_id: int) -> tuple[Path, str]:
        """The stored recording of a call and its media type.

        Raises:
            NotFoundError: no such call, its recording was removed by the retention policy,
                or it is no longer on disk.
        """
        with self.db.session() as session:
            found = CallRepository(session).audio_of(call_id)
        if found is None:
            raise NotFoundError(f"no call with id {call_id}")
        if found.removed:
            raise NotFoundError(f"the recording of call {call_id} was removed by the retention "
                                "policy (AUDIO_RETENTION_DAYS); its analysis is kept")
        path = self.files.path_for(found.sha256, found.audio_format)
        if not path.is_file():
            raise NotFoundError(f"the recording of call {call_id} is not in the audio store")
        return path, MEDIA_TYPES.get(path.suffix[1:], "application/octet-stream")

    def delete(self, call_id: int) -> Deleted:
        """Remove the call's rows, its search entry, its jobs and (unless another call still
        offers the same audio) its recording.

        The rows go in one transaction; the files only after it commits, so a failed delete
        leaves the call whole.

        Raises:
            NotFoundError: no such call.
        """
        with self.db.session() as session:
            calls = CallRepository(session)
            found = calls.audio_of(call_id)
            if found is None:
                raise NotFoundError(f"no call with id {call_id}")
            # Jobs first: their foreign key would otherwise lose the call id that finds them.
            spools = JobRepository(session).delete_of_call(call_id, found.job_id)
            calls.delete(call_id)
            shared = calls.audio_in_use(found.sha256)
        if not shared:
            self.files.remove(found.sha256, found.audio_format)
        for spool in spools:
            Path(spool).unlink(missing_ok=True)
        return Deleted(deleted=call_id, recording_removed=not shared, jobs_removed=len(spools))

    def stats(self) -> Stats:
        with self.db.session() as session:
            return CallRepository(session).stats()

    def count(self) -> int:
        with self.db.session() as session:
            return CallRepository(session).count()

    def of_job(self, job_id: str) -> int | None:
        with self.db.session() as session:
            return CallRepository(session).of_job(job_id)

    def latest_same(self, audio_sha256: str, pipeline: str,
                    submitted_by: str | None) -> tuple[int, str, str, int] | None:
        with self.db.session() as session:
            return CallRepository(session).latest_same(audio_sha256, pipeline, submitted_by)

    def export_rows(self, since: datetime | None = None,
                    until_id: int | None = None) -> Iterator[dict[str, Any]]:
        """`CallRepository.export_rows` in one read session, held open while rows are taken."""
        with self.db.session() as session:
            yield from CallRepository(session).export_rows(since, until_id)

    def health(self) -> str:
        return self.db.ping()
