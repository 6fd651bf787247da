"""Migrations at start, as several processes and a fresh machine meet them: five processes
migrating one new SQLite file at the same instant all succeed (a lock file serialises them), ten
times over; a PostgreSQL database that does not exist is one line naming the `createdb` command
that makes it, for `migrate` and for `audiohub serve`, and that command works."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import inspect

from audiohub.errors import BackendUnavailableError
from audiohub.persistence.db import Database, migrate
from tests.processes import free_port

# Each process waits for the same instant, imports done, so all five migrate at once.
_MIGRATE_AT = """
import sys, time
from audiohub.components import Components
from audiohub.config import Settings
settings = Settings()
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
print(Components(settings).db.ping())
"""


def test_five_processes_migrate_one_new_sqlite_file_at_once(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("DATABASE_URL", None)
    for run in range(10):
        data = tmp_path / f"run{run}"
        at = time.time() + 4  # after the slowest import
        procs = [subprocess.Popen([sys.executable, "-c", _MIGRATE_AT, str(at)],
                                  env={**env, "AUDIOHUB_DATA_DIR": str(data)},
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                 for _ in range(5)]
        outs = [(p.wait(timeout=120), p.stdout.read().decode() if p.stdout else "")
                for p in procs]
        took = time.time() - at
        failed = [out for rc, out in outs if rc != 0]
        assert failed == [], f"run {run}: {len(failed)} of 5 failed:\n{failed[0][-3000:]}"
        assert all(out.strip().endswith("sqlite ok") for _, out in outs)
        print(f"\nrun {run}: 5 processes migrated {data.name}/audiohub.db in {took:.2f} s")
        db = Database(f"sqlite:///{data / 'audiohub.db'}")
        assert "alembic_version" in inspect(db.engine).get_table_names()
        db.engine.dispose()


@pytest.fixture
def missing_db(pg_server: str) -> str:
    """The URL of a database on the machine's PostgreSQL that does not exist (yet)."""
    name = f"audiohub_missing_{uuid.uuid4().hex[:10]}"
    return f"{pg_server.rsplit('/', 1)[0]}/{name}"


def _drop(pg_server: str, url: str) -> None:
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def test_a_missing_database_is_one_line_naming_createdb(pg_server: str, missing_db: str) -> None:
    name = missing_db.rsplit("/", 1)[1]
    db = Database(missing_db.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with pytest.raises(BackendUnavailableError) as caught:
            migrate(db.engine)
        detail = caught.value.detail
        print(f"\n{detail}")
        assert "\n" not in detail
        assert f"the database '{name}' does not exist on 127.0.0.1:5432" in detail
        command = detail.split("create it with: ", 1)[1]
        assert command == f"createdb -h 127.0.0.1 -U postgres {name}"
        # The command it names makes the database, and the next start migrates it.
        subprocess.run(shlex.split(command), check=True, timeout=30)
        migrate(db.engine)
        assert "calls" in inspect(db.engine).get_table_names()
    finally:
        db.engine.dispose()
        _drop(pg_server, missing_db)


@pytest.mark.parametrize("stage", ["persistence", "all"])
def test_serve_says_the_one_line_and_exits_2(missing_db: str, tmp_path: Path,
                                             stage: str) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "DATABASE_URL": missing_db,
           "AUDIOHUB_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "80"}
    out = subprocess.run(
        [sys.executable, "-m", "audiohub.cli", "serve", stage, "--host", "127.0.0.1",
         "--port", str(free_port())], env=env, capture_output=True, text=True, timeout=120,
        check=False)
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    print(f"\naudiohub serve {stage} -> exit {out.returncode}: {lines}")
    assert out.returncode == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith("backend_unavailable: the database ")
    assert lines[0].endswith(f"create it with: createdb -h 127.0.0.1 -U postgres "
                             f"{missing_db.rsplit('/', 1)[1]}")
