"""Six stored calls with known values (days, words, outcomes, ties), for the listing, search and
stats tests of the repository, the persistence service and the gateway."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from audiohub.domain import CallRecord, Segment, SortColumn, Transcript
from audiohub.persistence.audio_store import sha256_file
from audiohub.persistence.db import Database
from audiohub.persistence.models import CallRow
from tests.persistence.test_store import WAV, make_record

Outcome = Literal["resolved", "unresolved", "follow_up_required", "transferred"]


@dataclass(frozen=True)
class Spec:
    filename: str
    domain: str
    category: str
    duration: float
    sentiment: float
    outcome: Outcome
    review: bool
    created: datetime
    text: str


def _utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# Names start with distinct letters (ties aside), so any collation orders them as Python does.
SPECS = (
    Spec("alpha.wav", "banking", "card_block", 30.0, -0.5, "resolved", False,
         _utc(2026, 1, 1, 8, 0), "My card was stolen yesterday, please block it."),
    Spec("bravo.wav", "healthcare", "appointment_scheduling", 120.0, 0.6, "follow_up_required",
         True, _utc(2026, 1, 1, 23, 59, 59), "I would like an appointment with Doctor Patel."),
    Spec("charlie.wav", "ecommerce", "refund_request", 45.5, 0.1, "unresolved", False,
         _utc(2026, 1, 2, 0, 0), "The parcel arrived broken and I want a refund."),
    Spec("delta.wav", "banking", "loan_inquiry", 300.0, -0.2, "transferred", True,
         _utc(2026, 1, 3, 12, 0), "Transferring you to the mortgage team about your loan."),
    Spec("echo.wav", "healthcare", "prescription_refill", 60.0, 0.9, "resolved", False,
         _utc(2026, 1, 5, 9, 30), "Your prescription refill is ready at the pharmacy."),
    # Stored "before migration 0006": its call_outcome column stays empty (see `backdate`).
    Spec("foxtrot.wav", "banking", "card_block", 15.0, 0.0, "resolved", True,
         _utc(2026, 1, 5, 18, 0), "Refunded charges appear on the card statement within days."),
)
LEGACY = 5  # index in SPECS of the call without a call_outcome column value


@dataclass(frozen=True)
class Stored:
    id: int
    spec: Spec
    outcome: str | None  # the column, as stored

    def value(self, column: SortColumn) -> Any:
        s = self.spec
        return {"created_at": s.created, "filename": s.filename,
                "duration_seconds": s.duration, "domain": s.domain, "category": s.category,
                "sentiment": s.sentiment, "outcome": self.outcome,
                "needs_review": s.review}[column]


def record_of(spec: Spec, audio: Path = WAV, audio_format: str = "wav") -> CallRecord:
    record = make_record(sha256_file(audio), domain=spec.domain, score=spec.sentiment)
    record.filename = spec.filename
    record.audio_format = audio_format
    record.transcript = Transcript.from_segments(
        [Segment(id=0, start=0.0, end=spec.duration, text=spec.text)], "en", spec.duration)
    record.classification.category = spec.category
    metrics = record.extraction.general_metrics
    metrics.call_outcome = spec.outcome
    metrics.needs_review = spec.review
    metrics.duration_seconds = spec.duration
    return record


def backdate(db: Database, ids: list[int]) -> list[Stored]:
    """Give the saved calls (`ids`, in SPECS order) their SPECS creation times, and clear the
    outcome column of the LEGACY one."""
    stored = []
    with db.session() as session:
        for i, (call_id, spec) in enumerate(zip(ids, SPECS, strict=True)):
            row = session.get(CallRow, call_id)
            assert row is not None
            row.created_at = spec.created
            if i == LEGACY:
                row.call_outcome = None
            stored.append(Stored(call_id, spec, row.call_outcome))
    return stored


def expected_order(calls: list[Stored], column: SortColumn, order: str) -> list[int]:
    """Ids as the calls list must order them: by the column, ties by id, empty values last."""
    desc = order == "desc"
    present = sorted((c for c in calls if c.value(column) is not None),
                     key=lambda c: (c.value(column), c.id), reverse=desc)
    missing = sorted((c for c in calls if c.value(column) is None),
                     key=lambda c: c.id, reverse=desc)
    return [c.id for c in present + missing]
