"""Stored calls as CSV or JSON lines, for spreadsheets and BI tools (`audiohub export`).

CSV has one row per call: the fixed columns, then `field.<name>` for every field name seen among
the exported calls (empty where a call has no such field). JSONL has one object per call with
its fields nested under `fields`. Rows are streamed from the database; CSV reads the query twice,
the first time only to learn the field names.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from audiohub.persistence.service import SqlStore

ExportFormat = Literal["csv", "jsonl"]
COLUMNS = ("id", "created_at", "filename", "duration_seconds", "domain", "category", "sentiment",
           "needs_review", "summary", "call_outcome")


def export_calls(store: SqlStore, fmt: ExportFormat, since: datetime | None,
                 out: TextIO) -> int:
    """Write the calls created at or after `since` (all when None; a naive time is UTC) to `out`
    as `fmt`, oldest first; returns how many were written."""
    if since is not None:
        since = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
    if fmt == "jsonl":
        return _jsonl(_rows(store, since), out)
    return _csv(store, since, out)


def _rows(store: SqlStore, since: datetime | None,
          until_id: int | None = None) -> Iterator[dict[str, Any]]:
    for row in store.export_rows(since, until_id):
        created: datetime = row["created_at"]
        # SQLite hands back the stored UTC time without its zone.
        row["created_at"] = (created if created.tzinfo else created.replace(tzinfo=UTC)).isoformat()
        yield row


def _jsonl(rows: Iterator[dict[str, Any]], out: TextIO) -> int:
    n = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        n += 1
    return n


def _csv(store: SqlStore, since: datetime | None, out: TextIO) -> int:
    names: dict[str, None] = {}  # field names in the order first seen
    last_id: int | None = None
    for row in store.export_rows(since):
        names.update(dict.fromkeys(row["fields"]))
        last_id = row["id"]
    writer = csv.writer(out)
    writer.writerow([*COLUMNS, *(f"field.{name}" for name in names)])
    if last_id is None:
        return 0
    n = 0
    # Only the calls the first pass saw: one stored meanwhile could have fields with no column.
    for row in _rows(store, since, until_id=last_id):
        fields = row["fields"]
        writer.writerow([*(_cell(row[c]) for c in COLUMNS),
                         *(_cell(fields.get(name)) for name in names)])
        n += 1
    return n


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)
