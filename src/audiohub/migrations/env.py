"""Alembic environment: migrations run on the connection `audiohub.persistence.db.migrate` gives."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from audiohub.access import models as _access  # noqa: F401  (registers the tables)
from audiohub.jobs import models as _jobs  # noqa: F401
from audiohub.persistence import models as _calls  # noqa: F401
from audiohub.persistence.db import Base
from audiohub.prompts import models as _prompts  # noqa: F401

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")

if connection is None:
    # `alembic revision --autogenerate` from a shell: use sqlalchemy.url from the ini/CLI.
    engine = engine_from_config(
        context.config.get_section(context.config.config_ini_section) or {},
        prefix="sqlalchemy.", poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    # render_as_batch: SQLite cannot ALTER most things; batch mode copies the table instead.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
