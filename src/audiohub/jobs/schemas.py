"""What the jobs API answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

JobStatus = Literal["queued", "transcribing", "analyzing", "saving", "done", "failed"]
UNFINISHED: tuple[JobStatus, ...] = ("queued", "transcribing", "analyzing", "saving")
# How far along each status is (the stages' typical shares of the time).
PROGRESS: dict[str, float] = {"queued": 0.0, "transcribing": 0.05, "analyzing": 0.7,
                              "saving": 0.95, "done": 1.0, "failed": 1.0}


class JobError(BaseModel):
    error: str
    detail: str


class Job(BaseModel):
    job_id: str
    status: JobStatus
    progress: float
    created_at: datetime
    updated_at: datetime
    filename: str
    audio_sha256: str
    call_id: int | None = None
    deduplicated: bool = False
    # Seconds spent in each stage.
    timings: dict[str, float] = Field(default_factory=dict)
    error: JobError | None = None
    webhook_url: str | None = None
    webhook_attempts: list[dict[str, Any]] = Field(default_factory=list)
    # The seed's output JSON, once done.
    result: dict[str, Any] | None = None


class JobAccepted(BaseModel):
    job_id: str
    status: JobStatus
    deduplicated: bool = False


class JobPage(BaseModel):
    total: int
    items: list[Job]
