"""Users, API keys, sessions and the audit trail; who submitted each call and job; when a
call's recording was removed by AUDIO_RETENTION_DAYS; on SQLite, call ids never used twice

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", _TZ, nullable=False),
    )
    op.create_index("ix_users_username", "users", ["username"], unique=True)
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=True),
        sa.Column("revoked_at", _TZ, nullable=True),
        sa.Column("last_used_at", _TZ, nullable=True),
    )
    op.create_index("ix_api_keys_name", "api_keys", ["name"], unique=True)
    op.create_index("ix_api_keys_key_hash", "api_keys", ["key_hash"], unique=True)
    op.create_table(
        "auth_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
    )
    op.create_index("ix_auth_sessions_user_id", "auth_sessions", ["user_id"])
    op.create_index("ix_auth_sessions_expires_at", "auth_sessions", ["expires_at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", _TZ, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("call_id", sa.Integer, nullable=True),
        sa.Column("detail", sa.String(500), nullable=False, server_default=""),
        sa.Column("address", sa.String(64), nullable=True),
    )
    for column in ("at", "actor", "action", "call_id"):
        op.create_index(f"ix_audit_log_{column}", "audit_log", [column])
    # Plain ADD COLUMN (no batch copy on SQLite, which would drop 0006's search triggers).
    op.add_column("calls", sa.Column("submitted_by", sa.String(200), nullable=True))
    op.add_column("calls", sa.Column("audio_removed_at", _TZ, nullable=True))
    op.create_index("ix_calls_submitted_by", "calls", ["submitted_by"])
    op.add_column("jobs", sa.Column("submitted_by", sa.String(200), nullable=True))
    op.create_index("ix_jobs_submitted_by", "jobs", ["submitted_by"])
    if op.get_bind().dialect.name == "sqlite":
        _calls_autoincrement()


# 0006's search triggers, made again on the new table (they go with the old one).
_FTS_TRIGGERS = (
    "CREATE TRIGGER calls_fts_insert AFTER INSERT ON calls BEGIN "
    "INSERT INTO calls_fts(rowid, transcription) VALUES (new.id, new.transcription); END",
    "CREATE TRIGGER calls_fts_delete AFTER DELETE ON calls BEGIN "
    "INSERT INTO calls_fts(calls_fts, rowid, transcription) "
    "VALUES ('delete', old.id, old.transcription); END",
    "CREATE TRIGGER calls_fts_update AFTER UPDATE OF transcription ON calls BEGIN "
    "INSERT INTO calls_fts(calls_fts, rowid, transcription) "
    "VALUES ('delete', old.id, old.transcription); "
    "INSERT INTO calls_fts(rowid, transcription) VALUES (new.id, new.transcription); END",
)


def _calls_autoincrement() -> None:
    """SQLite gives a new row the highest id + 1, so deleting the newest call (now possible)
    would hand its id, its links and its audit rows to the next call. AUTOINCREMENT never
    reuses an id; SQLite can only add it by copying the table. The copy keeps every id, so
    domain_specific, jobs and the search index still match; `migrate` runs with foreign keys
    off, so dropping the old table cascades nothing into them."""
    conn = op.get_bind()
    old = sa.Table("calls", sa.MetaData(), autoload_with=conn)
    indexes = [(i.name, [c.name for c in i.columns], bool(i.unique)) for i in old.indexes]
    new = sa.Table("calls_0007", sa.MetaData(),
                   *(sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable,
                               server_default=c.server_default) for c in old.columns),
                   sqlite_autoincrement=True)
    new.create(conn)
    columns = ", ".join(f'"{c.name}"' for c in old.columns)
    op.execute(f"INSERT INTO calls_0007 ({columns}) SELECT {columns} FROM calls")
    op.execute("DROP TABLE calls")  # its indexes and search triggers go with it
    op.execute("ALTER TABLE calls_0007 RENAME TO calls")
    for name, cols, unique in indexes:
        op.create_index(name, "calls", cols, unique=unique)
    for statement in _FTS_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    # The columns are dropped in place (SQLite 3.35+): the calls table keeps AUTOINCREMENT.
    op.drop_index("ix_jobs_submitted_by", "jobs")
    op.drop_column("jobs", "submitted_by")
    op.drop_index("ix_calls_submitted_by", "calls")
    op.drop_column("calls", "audio_removed_at")
    op.drop_column("calls", "submitted_by")
    op.drop_table("audit_log")
    op.drop_table("auth_sessions")
    op.drop_table("api_keys")
    op.drop_table("users")
