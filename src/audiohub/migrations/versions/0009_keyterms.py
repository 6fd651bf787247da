"""jobs.options: what a job was asked for beyond its recording (its `keyterms` now), kept so the
job runs with them after a restart or on another worker; prompts.keyterms: a category's own
words to expect (drug names for a pharmacy's calls)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-14
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL on the rows before it: no options, no terms (read as {} and []).
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("options", sa.JSON(), nullable=True))
    with op.batch_alter_table("prompts") as batch:
        batch.add_column(sa.Column("keyterms", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("prompts") as batch:
        batch.drop_column("keyterms")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("options")
