"""What the jobs API answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from audiohub.domain import UtcDatetime

# `retrying`: a stage was down; the job waits for its next attempt with its work so far kept.
JobStatus = Literal["queued", "retrying", "transcribing", "analyzing", "saving", "done",
                    "failed"]
UNFINISHED: tuple[JobStatus, ...] = ("queued", "retrying", "transcribing", "analyzing", "saving")
# How far along each status is (the stages' typical shares of the time); a retrying job shows
# how far its kept work got (see repository.to_job).
PROGRESS: dict[str, float] = {"queued": 0.0, "retrying": 0.0, "transcribing": 0.05,
                              "analyzing": 0.7, "saving": 0.95, "done": 1.0, "failed": 1.0}


class JobOptions(BaseModel):
    """What a job was asked for beyond its recording, as its row keeps it (jobs.options)."""

    # Words to expect in the call (the request's `keyterms`), cleaned when it was accepted.
    keyterms: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, stored: dict[str, Any] | None) -> JobOptions:
        return cls.model_validate(stored or {})

    def stored(self) -> dict[str, Any] | None:
        """The column's value: NULL when nothing was asked, like rows from before options."""
        return self.model_dump(exclude_defaults=True) or None


class JobError(BaseModel):
    error: str
    detail: str


WebhookOutcome = Literal["delivered", "http_error", "unreachable", "timeout", "refused_address"]


class WebhookAttempt(BaseModel):
    """One POST to a job's webhook: its status code and how long it took, never a connection
    error's text (which would tell a closed port from an open non-HTTP one)."""

    at: UtcDatetime
    status_code: int | None = None
    outcome: WebhookOutcome
    seconds: float

    @model_validator(mode="before")
    @classmethod
    def _from_before(cls, data: Any) -> Any:
        """Attempts recorded before outcomes existed ({"error": ..., "duration_ms": ...}) are
        read in this shape, their error text dropped."""
        if not isinstance(data, dict) or "outcome" in data:
            return data
        status, error = data.get("status_code"), str(data.get("error") or "")
        outcome = ("timeout" if "Timeout" in error else "unreachable" if status is None
                   else "delivered" if 200 <= status < 300 else "http_error")
        return {"at": data.get("at"), "status_code": status, "outcome": outcome,
                "seconds": round(float(data.get("duration_ms") or 0) / 1000, 3)}


class Job(BaseModel):
    job_id: str
    status: JobStatus
    progress: float
    created_at: UtcDatetime
    updated_at: UtcDatetime
    filename: str
    audio_sha256: str
    call_id: int | None = None
    deduplicated: bool = False
    # The words to expect the job was sent with (`keyterms`).
    keyterms: list[str] = Field(default_factory=list)
    # Seconds spent in each stage.
    timings: dict[str, float] = Field(default_factory=dict)
    error: JobError | None = None
    # Shown to the job's submitter and to admins only (the route blanks them for others).
    webhook_url: str | None = None
    webhook_attempts: list[WebhookAttempt] = Field(default_factory=list)
    # The seed's output JSON, once done.
    result: dict[str, Any] | None = None
    # Who may see the webhook fields; never in an answer or a webhook's body.
    submitted_by: str | None = Field(default=None, exclude=True)


class JobAccepted(BaseModel):
    job_id: str
    status: JobStatus
    deduplicated: bool = False


class JobPage(BaseModel):
    total: int
    items: list[Job]
