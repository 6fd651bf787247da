"""Shared fixtures: real models, real audio fixtures, real SQLite and PostgreSQL databases."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

import audiohub
from audiohub.config import (
    AnalyzerSettings,
    DatabaseSettings,
    Settings,
    WhisperSettings,
    env_names,
)
from tests.fakes.gemini_server import GeminiServer

AUDIO = Path(__file__).parent / "fixtures" / "audio"
PG_ADMIN = os.environ.get("AUDIOHUB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

# Variables a developer may have exported that would silently change what a test runs against:
# every one the settings read (a new setting is covered without being listed here).
_HUB_ENV = tuple(sorted(env_names()))


# The suite runs Whisper tiny.en, about three times faster than the default (base); the eval
# subset (tests/evaluation) and the model tests name base, the default, explicitly. Set for the
# whole process, not only per test: module-scoped fixtures and the servers they start are set up
# before any per-test fixture runs.
TEST_WHISPER_MODEL = "tiny.en"
os.environ["WHISPER_MODEL"] = TEST_WHISPER_MODEL
# The default names plus the one Starlette's TestClient sends; tests/gateway/test_hosts.py checks
# the default itself.
TEST_ALLOWED_HOSTS = "localhost,127.0.0.1,::1,testserver"
os.environ["ALLOWED_HOSTS"] = TEST_ALLOWED_HOSTS


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _HUB_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("WHISPER_MODEL", TEST_WHISPER_MODEL)
    monkeypatch.setenv("ALLOWED_HOSTS", TEST_ALLOWED_HOSTS)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """AUDIOHUB_DATA_DIR for code that reads its settings from the environment (the CLI)."""
    monkeypatch.setenv("AUDIOHUB_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture(scope="session")
def manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((AUDIO / "calls.json").read_text())
    return data


def make_settings(data_dir: Path, database_url: str | None = None, **kw: Any) -> Settings:
    defaults: dict[str, Any] = {"whisper": WhisperSettings(), "analysis": AnalyzerSettings()}
    return Settings(data_dir=data_dir, database=DatabaseSettings(url=database_url),
                    **{**defaults, **kw})


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The machine's PostgreSQL. Not reachable is a failure, never a skip (see .ci/run)."""
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {PG_ADMIN} is not reachable ({exc}); run `make services`")
    return PG_ADMIN


@contextlib.contextmanager
def pg_database(pg_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards (for fixtures of any scope)."""
    name = f"audiohub_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{pg_server.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with pg_database(pg_server) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """Run the test once on SQLite (None: the data dir's file) and once on PostgreSQL."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture(scope="session")
def _gemini_server() -> Iterator[GeminiServer]:
    with GeminiServer() as server:
        yield server


@pytest.fixture
def gemini(_gemini_server: GeminiServer) -> GeminiServer:
    """The local server speaking Gemini's REST wire format, reset for this test."""
    _gemini_server.reset()
    return _gemini_server


def alembic(engine: Engine, action: str, revision: str) -> None:
    """Run an Alembic command ("upgrade", "downgrade") on `engine` to `revision`: for tests of
    one migration against rows stored before it."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(audiohub.__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, revision)
