"""Engine, sessions and migrations. Alembic owns the schema; nothing calls create_all."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from alembic import command
from alembic.config import Config
from filelock import FileLock, Timeout
from sqlalchemy import URL, Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from audiohub.errors import BackendUnavailableError

_MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_MIGRATION_LOCK = 0x41554449  # any fixed 64-bit key; "AUDI"
# Long enough for a first migration on a slow disk; a holder that died released its lock
# with its process (the OS drops it), so waiting this long means a live one is stuck.
_FILE_LOCK_SECONDS = 300
_NO_DATABASE = re.compile(r'database "(?P<name>[^"]+)" does not exist')


class Base(DeclarativeBase):
    """Declarative base for every table of the hub."""


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets foreign keys and WAL so readers never block the writer."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Apply every migration up to head (idempotent; runs on every start).

    Processes sharing a database migrate one at a time: an advisory lock on PostgreSQL, a lock
    file beside the SQLite file (services and workers on one data dir start in any order).

    Raises:
        BackendUnavailableError: the database cannot be reached or migrated, in one line; a
            PostgreSQL database that does not exist names the `createdb` command that makes it.
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    try:
        with _sqlite_file_lock(engine.url), engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # The prompt and persistence services migrate the same database as they start;
                # the second waits here until the first has committed, then finds nothing to do.
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except SQLAlchemyError as exc:
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        if missing := _NO_DATABASE.search(reason):
            raise BackendUnavailableError(
                f"the database {missing['name']!r} does not exist on {_server(engine.url)}; "
                f"create it with: {createdb_command(engine.url)}") from None
        raise BackendUnavailableError(
            f"cannot migrate the database at {engine.url.render_as_string(hide_password=True)}: "
            f"{exc.__class__.__name__}: {reason}") from exc
    except Timeout as exc:
        raise BackendUnavailableError(
            f"another process has been migrating {engine.url.database} for "
            f"{_FILE_LOCK_SECONDS} s (lock file {exc.lock_file}); stop it or remove the lock "
            "file if no process of the hub is running") from None


def _sqlite_file_lock(url: URL) -> AbstractContextManager[object]:
    """The lock file serialising migrations of one SQLite file (no-op for other databases)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return nullcontext()
    return FileLock(f"{url.database}.migrate.lock", timeout=_FILE_LOCK_SECONDS)


def _server(url: URL) -> str:
    return f"{url.host or 'localhost'}:{url.port or 5432}"


def createdb_command(url: URL) -> str:
    """The PostgreSQL client command that creates the database `url` names."""
    words = ["createdb", "-h", url.host or "localhost"]
    if url.port and url.port != 5432:
        words += ["-p", str(url.port)]
    if url.username:
        words += ["-U", url.username]
    return shlex.join([*words, url.database or ""])


class Database:
    """The engine plus a session factory; one per process."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def ping(self) -> str:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return f"{self.engine.dialect.name} ok"
