"""jobs: accepted recordings processed in the background; calls.job_id and calls.pipeline so a
redelivered job never stores a second call and the same audio can be recognised as done

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("audio_sha256", sa.String(64), nullable=False, index=True),
        sa.Column("spool_path", sa.String(1024), nullable=False),
        sa.Column("webhook_url", sa.String(2000), nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True, unique=True),
        sa.Column("force", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("call_id", sa.Integer(), sa.ForeignKey("calls.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("deduplicated", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("timings", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("webhook_attempts", sa.JSON(), nullable=False,
                  server_default=sa.text("'[]'")),
    )
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("job_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("pipeline", sa.String(200), nullable=True))
        batch.create_index("ix_calls_job_id", ["job_id"], unique=True)
        batch.create_index("ix_calls_pipeline", ["pipeline"])


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_index("ix_calls_pipeline")
        batch.drop_index("ix_calls_job_id")
        batch.drop_column("pipeline")
        batch.drop_column("job_id")
    op.drop_table("jobs")
