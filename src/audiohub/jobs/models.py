"""The jobs table: one row per accepted recording, from the 202 to done or failed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from audiohub.persistence.db import Base
from audiohub.persistence.models import _now


class JobRow(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now,
                                                 onupdate=_now)
    status: Mapped[str] = mapped_column(String(16), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    audio_sha256: Mapped[str] = mapped_column(String(64), index=True)
    # The accepted recording, kept until the job is done (the persistence stage stores its own
    # copy), or for FAILED_JOB_RETENTION_DAYS after it failed, for a retry.
    spool_path: Mapped[str] = mapped_column(String(1024))
    # The user or key that submitted it (an `uploader` reads only its own jobs).
    submitted_by: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    webhook_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)
    force: Mapped[bool] = mapped_column(Boolean, default=False)
    call_id: Mapped[int | None] = mapped_column(
        ForeignKey("calls.id", ondelete="SET NULL"), nullable=True)
    deduplicated: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    timings: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    webhook_attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The first half of the call (a TranscriptionResult), kept from the moment it is done until
    # the job is done: the analysis runs from it on another worker, after a crash, or in a later
    # attempt, without transcribing again.
    transcription: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # What the job was asked for beyond its recording: {"keyterms": [...]} (the words to expect
    # in the call). One JSON column, so later per-call inputs join it without a migration each.
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Runs started (a retry after a stage was down, or a requeue after its worker died, is one
    # more); at JOB_MAX_ATTEMPTS a stage still down fails the job.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When a `retrying` job is queued again.
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                             nullable=True, index=True)
    # The run that holds the job (a random token per run), and when it last said it is alive:
    # a job is run by one holder at a time, and a holder silent for JOB_STALE_SECONDS is taken
    # to be dead and the job queued again.
    claimed_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True,
                                                          index=True)
