"""What the pages show, built from the stages' models: the transcript cut at evidence spans, the
calls table's links, the charts' bars. No HTML here beyond the charts; templates render these."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, get_args
from urllib.parse import urlencode

from pydantic import ValidationError

from audiohub.domain import CallFilter, CallResult, Evidence, FieldSpec, Segment, Stats
from audiohub.errors import InvalidInputError, describe_invalid
from audiohub.fieldspec import SaidBy
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

# One field per line: `name [kind, said_by]: description | cues: a; b | choices: x = y / z; w |
# examples: my code is [A1]; ... | length: 4 | shape: AA-9999`. Everything after the name is
# optional, so the seed's `name: description` still reads.
FIELD_LINE = re.compile(
    r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[([^\]]*)\])?\s*(?::\s*([^|]*))?(\|.*)?$")
FIELD_SYNTAX = ("name [kind, said_by]: description | cues: a; b | choices: value = synonym / "
                "synonym; value | examples: a sentence with the [value]; ... | length: 4 | "
                "shape: AA-9999")
SAID_BY: tuple[SaidBy, ...] = get_args(SaidBy)
_PARTS = ("cues", "choices", "examples", "length", "shape")


def format_fields(fields: list[FieldSpec]) -> str:
    """Fields as editable lines, every hint the field has written out (FIELD_SYNTAX)."""
    return "\n".join(_field_line(f) for f in fields)


def _field_line(f: FieldSpec) -> str:
    tags = f.kind if f.said_by == "either" else f"{f.kind}, {f.said_by}"
    parts = [f"{f.name} [{tags}]: {f.description}".rstrip()]
    if f.cues:
        parts.append("cues: " + "; ".join(f.cues))
    if f.choices:
        parts.append("choices: " + format_choices(f))
    if f.examples:
        parts.append("examples: " + "; ".join(f.examples))
    if f.length is not None:
        parts.append(f"length: {f.length}")
    if f.shape:
        parts.append(f"shape: {f.shape}")
    return " | ".join(parts)


def format_choices(f: FieldSpec) -> str:
    """A choice field's values as written in a form: `value = synonym / synonym; value`."""
    return "; ".join(c.value + (" = " + " / ".join(c.synonyms) if c.synonyms else "")
                     for c in f.choices)


def parse_fields(text: str, current: list[FieldSpec]) -> list[FieldSpec]:
    """The lines back into fields. A kind left out keeps the field's current one; either way the
    kind is now a person's, so saving confirms an inferred kind (`kind_inferred` false)."""
    kinds = {f.name: f.kind for f in current}
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = FIELD_LINE.match(line)
        if m is None:
            raise InvalidInputError(
                f"fields, line {n}: write `{FIELD_SYNTAX}` with a name of letters, digits and "
                f"underscores, not {line.strip()[:60]!r}")
        name, tags, description, rest = m.groups()
        raw: dict[str, Any] = {"name": name, "description": (description or "").strip()}
        for tag in (t.strip() for t in (tags or "").split(",") if t.strip()):
            raw["said_by" if tag in SAID_BY else "kind"] = tag
        raw.setdefault("kind", kinds.get(name, "text"))
        try:
            for part in (rest or "").split("|")[1:]:
                key, colon, value = part.partition(":")
                key = key.strip()
                if not colon or key not in _PARTS:
                    raise ValueError(f"{part.strip()[:40]!r} is not one of "
                                     f"{', '.join(p + ': ...' for p in _PARTS)}")
                raw[key] = value.strip()
            out.append(field_spec(raw))
        except ValidationError as exc:
            raise InvalidInputError(f"fields, line {n} ({name}): "
                                    f"{describe_invalid(exc.errors(), whole='field')}") from None
        except ValueError as exc:
            raise InvalidInputError(f"fields, line {n} ({name}): {exc}") from None
    return out


def field_hints(raw: dict[str, Any]) -> dict[str, Any]:
    """A form's text for a field's hints as the spec's values: cues and examples separated by
    `;`, choices as `value = synonym / synonym; value`, length a number; empty ones left out."""
    out = {k: v for k, v in raw.items() if k not in _PARTS}
    if cues := _items(raw.get("cues")):
        out["cues"] = cues
    if examples := _items(raw.get("examples")):
        out["examples"] = examples
    if choices := _items(raw.get("choices")):
        out["choices"] = [_choice(c) for c in choices]
    if length := str(raw.get("length") or "").strip():
        out["length"] = length
    if shape := str(raw.get("shape") or "").strip():
        out["shape"] = shape
    return out


def field_spec(raw: dict[str, Any]) -> FieldSpec:
    """A field from a form's text (`field_hints`); raises pydantic's ValidationError."""
    return FieldSpec.model_validate(field_hints(raw))


def _items(text: object) -> list[str]:
    return [t.strip() for t in str(text or "").split(";") if t.strip()]


def _choice(text: str) -> dict[str, Any]:
    value, _, synonyms = text.partition("=")
    return {"value": value.strip(),
            "synonyms": [s.strip() for s in synonyms.split("/") if s.strip()]}


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
