"""calls.call_outcome as a column (the dashboard sorts by it) and full-text search over
calls.transcription: an FTS5 table on SQLite, a GIN expression index on PostgreSQL

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BATCH = 500

# External content: the index keeps only tokens and reads the text from calls, so transcripts are
# not stored twice. The triggers keep it in step with every write. A later migration that makes
# SQLite copy `calls` (batch mode's recreate) drops these triggers with the old table and must
# create them again. porter: English stemming, as PostgreSQL's 'english' configuration does.
_SQLITE_UP = (
    "CREATE VIRTUAL TABLE calls_fts USING fts5(transcription, content='calls', "
    "content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER calls_fts_insert AFTER INSERT ON calls BEGIN "
    "INSERT INTO calls_fts(rowid, transcription) VALUES (new.id, new.transcription); END",
    "CREATE TRIGGER calls_fts_delete AFTER DELETE ON calls BEGIN "
    "INSERT INTO calls_fts(calls_fts, rowid, transcription) "
    "VALUES ('delete', old.id, old.transcription); END",
    "CREATE TRIGGER calls_fts_update AFTER UPDATE OF transcription ON calls BEGIN "
    "INSERT INTO calls_fts(calls_fts, rowid, transcription) "
    "VALUES ('delete', old.id, old.transcription); "
    "INSERT INTO calls_fts(rowid, transcription) VALUES (new.id, new.transcription); END",
    "INSERT INTO calls_fts(calls_fts) VALUES ('rebuild')",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS calls_fts_update",
    "DROP TRIGGER IF EXISTS calls_fts_delete",
    "DROP TRIGGER IF EXISTS calls_fts_insert",
    "DROP TABLE IF EXISTS calls_fts",
)
# The expression must be the one the repository queries, or PostgreSQL will not use the index.
_PG_UP = ("CREATE INDEX ix_calls_transcription_fts ON calls "
          "USING gin (to_tsvector('english'::regconfig, transcription))",)
_PG_DOWN = ("DROP INDEX IF EXISTS ix_calls_transcription_fts",)


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("call_outcome", sa.String(32), nullable=True))
        batch.create_index("ix_calls_call_outcome", ["call_outcome"])
    _backfill_outcomes()
    for statement in _dialect_statements(_SQLITE_UP, _PG_UP):
        op.execute(statement)


def downgrade() -> None:
    for statement in _dialect_statements(_SQLITE_DOWN, _PG_DOWN):
        op.execute(statement)
    # recreate="never": SQLite drops the column in place. Copying the table instead would, with
    # foreign keys on, delete every call's domain_specific row along with the old table.
    with op.batch_alter_table("calls", recreate="never") as batch:
        batch.drop_index("ix_calls_call_outcome")
        batch.drop_column("call_outcome")


def _dialect_statements(sqlite: tuple[str, ...], postgresql: tuple[str, ...]) -> tuple[str, ...]:
    name = op.get_bind().dialect.name
    return {"sqlite": sqlite, "postgresql": postgresql}.get(name, ())


def _backfill_outcomes() -> None:
    """Copy general_metrics["call_outcome"] into the new column, in Python so the JSON is read
    the same way on every database, a batch of rows at a time so memory stays flat."""
    calls = sa.table("calls", sa.column("id", sa.Integer()),
                     sa.column("general_metrics", sa.JSON()),
                     sa.column("call_outcome", sa.String(32)))
    update = (calls.update().where(calls.c.id == sa.bindparam("row_id"))
              .values(call_outcome=sa.bindparam("outcome")))
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.select(calls.c.id, calls.c.general_metrics).where(calls.c.id > last)
            .order_by(calls.c.id).limit(_BATCH)
        ).all()
        if not rows:
            return
        values = []
        for row_id, metrics in rows:
            outcome = metrics.get("call_outcome") if isinstance(metrics, dict) else None
            values.append({"row_id": row_id,
                           "outcome": outcome[:32] if isinstance(outcome, str) else None})
        conn.execute(update, values)
        last = rows[-1][0]
