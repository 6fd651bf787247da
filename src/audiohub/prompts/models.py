"""The `prompts` table: one row per (domain, category, version)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from audiohub.persistence.db import Base


class PromptRow(Base):
    __tablename__ = "prompts"
    __table_args__ = (UniqueConstraint("domain", "category", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain: Mapped[str] = mapped_column(String(64), index=True)
    category: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    prompt: Mapped[str] = mapped_column(Text)
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    json_schema: Mapped[dict[str, Any]] = mapped_column(JSON)
    examples: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The category's words to expect (CategorySpec.keyterms); NULL on rows older than them.
    keyterms: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(UTC)
    )
