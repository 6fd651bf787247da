"""What the pages show, built from the stages' models: the transcript cut at evidence spans, the
calls table's links, the charts' bars. No HTML here beyond the charts; templates render these."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any
from urllib.parse import urlencode

from audiohub.domain import CallFilter, CallResult, Evidence, FieldSpec, Segment, Stats
from audiohub.errors import InvalidInputError
from audiohub.web.charts import Bar


@dataclass(frozen=True)
class Piece:
    """A run of transcript text, and the evidence entries (by number) it belongs to."""

    text: str
    evidence: tuple[int, ...] = ()
    # Evidence entries this is the first piece of: their anchors (#ev-N) sit before it.
    starts: tuple[int, ...] = ()


@dataclass(frozen=True)
class Line:
    """One transcript segment as shown: its time, speaker and text pieces."""

    index: int
    start: float
    end: float
    speaker: str | None
    pieces: list[Piece]


@dataclass(frozen=True)
class Value:
    """One row of the call's domain data."""

    name: str
    value: str | None
    number: int | None  # its evidence entry's number, when it was found in the transcript
    evidence: Evidence | None


@dataclass
class CallView:
    call_id: int
    result: CallResult
    lines: list[Line]
    values: list[Value]
    sentiment: list[tuple[float, float, float]] = field(default_factory=list)


def call_view(call_id: int, result: CallResult) -> CallView:
    """The call page: evidence entries numbered in field order, the transcript cut at their
    offsets (which slice `transcription` exactly), and each value tied to its entry."""
    values: list[Value] = []
    spans: dict[int, tuple[int, int]] = {}
    for name, value in result.domain_specific_data.items():
        ev = result.evidence.get(name)
        number = None
        if (value is not None and ev is not None and ev.grounded
                and ev.char_start is not None and ev.char_end is not None):
            number = len(spans) + 1
            spans[number] = (ev.char_start, ev.char_end)
        values.append(Value(name, value, number, ev))
    sentiment = [(s.start, s.end, s.score) for s in result.general_metrics.sentiment.segments]
    return CallView(call_id, result, transcript_lines(result.transcription, result.segments,
                                                      spans), values, sentiment)


def transcript_lines(text: str, segments: list[Segment],
                     spans: dict[int, tuple[int, int]]) -> list[Line]:
    """Segments with their text cut wherever an evidence span begins or ends.

    The transcript is the segment texts joined by single spaces, so each segment's offset is
    known; when a transcript was made otherwise, it is shown as one block with its marks."""
    anchored: set[int] = set()
    if not segments or " ".join(s.text for s in segments) != text:
        return [Line(0, 0.0, 0.0, None, _cut(text, 0, spans, anchored))] if text else []
    lines, offset = [], 0
    for i, seg in enumerate(segments):
        lines.append(Line(i, seg.start, seg.end, seg.speaker,
                          _cut(seg.text, offset, spans, anchored)))
        offset += len(seg.text) + 1
    return lines


def _cut(text: str, offset: int, spans: dict[int, tuple[int, int]],
         anchored: set[int]) -> list[Piece]:
    """`text` (at `offset` in the transcript) in pieces; each span's anchor goes before the
    first piece it covers, wherever the span begins (even on the space between segments)."""
    end = offset + len(text)
    cuts = {offset, end}
    for a, b in spans.values():
        cuts.update(c for c in (a, b) if offset < c < end)
    points = sorted(cuts)
    pieces = []
    for a, b in pairwise(points):
        inside = tuple(n for n, (s, e) in spans.items() if s < b and e > a)
        starts = tuple(n for n in inside if n not in anchored)
        anchored.update(starts)
        pieces.append(Piece(text[a - offset:b - offset], inside, starts))
    return pieces


# --- the calls list ---------------------------------------------------------------------------

COLUMNS: list[tuple[str, str]] = [
    ("created_at", "Time"), ("filename", "File"), ("duration_seconds", "Duration"),
    ("domain", "Domain"), ("category", "Category"), ("sentiment", "Sentiment"),
    ("outcome", "Outcome"), ("needs_review", "Review"),
]


def query(f: CallFilter, **changes: object) -> str:
    """The list's URL query for this filter with some parameters changed (sort links, pages)."""
    values = f.model_dump(mode="json", exclude_defaults=True) | changes
    values.pop("limit", None)
    return urlencode({k: ("1" if v is True else "0" if v is False else v)
                      for k, v in values.items() if v not in (None, "")})


def sort_link(f: CallFilter, column: str) -> tuple[str, str | None]:
    """The header link of a column (it sorts by it, or flips the order) and its aria-sort."""
    if f.sort == column:
        flipped = "asc" if f.order == "desc" else "desc"
        return query(f, sort=column, order=flipped, offset=0), (
            "ascending" if f.order == "asc" else "descending")
    return query(f, sort=column, order="desc" if column == "created_at" else "asc",
                 offset=0), None


# --- stats ------------------------------------------------------------------------------------

def count_bars(counts: dict[str, int]) -> list[Bar]:
    return [Bar(k, v) for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def day_bars(stats: Stats) -> list[Bar]:
    return [Bar(day, n) for day, n in sorted(stats.calls_per_day.items())]


def average_bars(values: dict[str, float]) -> list[Bar]:
    return [Bar(k, round(v, 2)) for k, v in sorted(values.items())]


# --- prompts --------------------------------------------------------------------------------

FIELD_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[([a-z_]+)\])?\s*(?::\s*(.*))?$")


def format_fields(fields: list[FieldSpec]) -> str:
    """Fields as editable lines: `name [kind]: description`."""
    return "\n".join(f"{f.name} [{f.kind}]: {f.description}" for f in fields)


def parse_fields(text: str, current: list[FieldSpec]) -> list[FieldSpec]:
    """The lines back into fields; a kind left out keeps the field's current one."""
    kinds = {f.name: f.kind for f in current}
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = FIELD_LINE.match(line)
        if m is None:
            raise InvalidInputError(
                f"fields, line {n}: write `name [kind]: description` with a name of letters, "
                f"digits and underscores, not {line.strip()[:60]!r}")
        name, kind, description = m.group(1), m.group(2), (m.group(3) or "").strip()
        out.append(FieldSpec.model_validate(
            {"name": name, "kind": kind or kinds.get(name, "text"), "description": description}))
    return out


# --- template filters ---------------------------------------------------------------------------

DASH = "\u2013"  # what a table cell shows for "no value"

def clock(seconds: float | None) -> str:
    """Seconds as m:ss (h:mm:ss past an hour)."""
    if seconds is None:
        return DASH
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else DASH


def pct(value: float | None) -> str:
    return DASH if value is None else f"{value * 100:.0f}%"


def signed(value: float | None) -> str:
    return DASH if value is None else f"{value:+.2f}"
