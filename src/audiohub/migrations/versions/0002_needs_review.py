"""calls.needs_review, so calls needing a person can be listed quickly

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("needs_review", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.create_index("ix_calls_needs_review", ["needs_review"])


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_index("ix_calls_needs_review")
        batch.drop_column("needs_review")
