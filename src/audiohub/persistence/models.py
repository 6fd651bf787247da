"""Tables for calls, as in the seed: a general `calls` table and `domain_specific` rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audiohub.persistence.db import Base


def _now() -> datetime:
    return datetime.now(UTC)


class CallRow(Base):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    filename: Mapped[str] = mapped_column(String(255))
    audio_sha256: Mapped[str] = mapped_column(String(64), index=True)
    audio_format: Mapped[str] = mapped_column(String(64))
    duration_seconds: Mapped[float] = mapped_column(Float)
    language: Mapped[str] = mapped_column(String(16))
    transcription: Mapped[str] = mapped_column(Text)
    segments: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    domain: Mapped[str] = mapped_column(String(64), index=True)
    category: Mapped[str] = mapped_column(String(64), index=True)
    classification_score: Mapped[float] = mapped_column(Float)
    sentiment_score: Mapped[float] = mapped_column(Float)
    general_metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    token_usage: Mapped[dict[str, Any]] = mapped_column(JSON)
    prompt_version: Mapped[int] = mapped_column(Integer)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # general_metrics["call_outcome"] again, as a column: the calls list sorts and filters by it.
    call_outcome: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    # The job that stored it (unique: a redelivered job finds its call instead of adding one)
    # and the backends that made it, so the same audio on the same pipeline is recognised.
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True, unique=True,
                                               index=True)
    pipeline: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    # The user or key that submitted it (an `uploader` reads only its own calls).
    submitted_by: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    # When AUDIO_RETENTION_DAYS removed the recording (the analysis is kept).
    audio_removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                              nullable=True)

    domain_specific: Mapped[DomainSpecificRow] = relationship(
        back_populates="call", uselist=False, cascade="all, delete-orphan"
    )


class DomainSpecificRow(Base):
    __tablename__ = "domain_specific"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(
        ForeignKey("calls.id", ondelete="CASCADE"), unique=True, index=True
    )
    domain: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)

    call: Mapped[CallRow] = relationship(back_populates="domain_specific")
