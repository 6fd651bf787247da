"""jobs.attempts, next_attempt_at, claimed_by, heartbeat_at: a job whose stage is down waits
as `retrying` for its next attempt, and a job whose worker died is queued again

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", _TZ, nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(32), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", _TZ, nullable=True))
        batch.create_index("ix_jobs_next_attempt_at", ["next_attempt_at"])
        batch.create_index("ix_jobs_heartbeat_at", ["heartbeat_at"])


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_heartbeat_at")
        batch.drop_index("ix_jobs_next_attempt_at")
        for column in ("heartbeat_at", "claimed_by", "next_attempt_at", "attempts"):
            batch.drop_column(column)
