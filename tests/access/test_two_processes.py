"""Two gateway processes on one PostgreSQL: a key revoked, a key expired, a session ended, or a
role changed through the shared database takes effect on the very next request to either,
with nothing cached in between."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from audiohub.access.guard import SESSION_COOKIE
from audiohub.access.service import AccessService
from audiohub.config import AuthSettings
from audiohub.persistence.db import Database, migrate
from tests.access.conftest import bearer, expire_key, make_key
from tests.conftest import pg_database
from tests.processes import Server, free_port

PASSWORD = "a long enough test password"


@dataclass
class Pair:
    first: httpx.Client
    second: httpx.Client
    access: AccessService  # the same database, opened by the test as a third party


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, pg_server: str) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("two")
    with pg_database(pg_server) as url:
        db = Database(url)
        migrate(db.engine)
        servers = [Server("all", free_port(), {"DATABASE_URL": url, "AUDIOHUB_DATA_DIR":
                                               str(root / name)}, root / f"{name}.log")
                   for name in ("first", "second")]
        try:
            for server in servers:
                server.start()
            with httpx.Client(base_url=servers[0].url, timeout=30) as first, \
                    httpx.Client(base_url=servers[1].url, timeout=30) as second:
                yield Pair(first, second, AccessService(db, AuthSettings(), root / "tests"))
        finally:
            for server in servers:
                server.stop()
            db.engine.dispose()


def statuses(pair: Pair, path: str, headers: dict[str, str]) -> tuple[int, int]:
    return (pair.first.get(path, headers=headers).status_code,
            pair.second.get(path, headers=headers).status_code)


def test_a_revoked_key_stops_at_once_in_both(pair: Pair) -> None:
    name, key = make_key(pair.access, "analyst")
    assert statuses(pair, "/api/calls", bearer(key)) == (200, 200)
    pair.access.revoke_key(name, "tests")
    assert pair.second.get("/api/calls", headers=bearer(key)).status_code == 401
    assert pair.first.get("/api/calls", headers={"X-API-Key": key}).status_code == 401


def test_an_expired_key_stops_in_both(pair: Pair) -> None:
    name, key = make_key(pair.access, "viewer", expires_days=30)
    assert statuses(pair, "/api/stats", bearer(key)) == (200, 200)
    expire_key(pair.access, name)
    assert pair.second.get("/api/stats", headers=bearer(key)).status_code == 401
    assert pair.first.get("/api/stats", headers=bearer(key)).status_code == 401
    assert pair.access.keys()[-1].name == name  # still listed, as expired, not deleted


def sign_in(pair: Pair, username: str) -> dict[str, str]:
    """Sign in on the first process; the cookie header to send anywhere."""
    r = pair.first.post("/ui/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 303
    pair.first.cookies.clear()
    return {"Cookie": f"{SESSION_COOKIE}={r.cookies[SESSION_COOKIE]}"}


def test_a_session_from_one_ends_in_both_when_signed_out_on_the_other(pair: Pair) -> None:
    pair.access.create_user("ann", PASSWORD, "admin", "tests")
    cookie = sign_in(pair, "ann")
    assert statuses(pair, "/api/audit", cookie) == (200, 200)
    principal = pair.access.by_session(cookie["Cookie"].partition("=")[2])
    assert principal is not None and principal.csrf is not None
    r = pair.second.post("/ui/logout", headers={**cookie, "X-CSRF-Token": principal.csrf})
    assert r.status_code == 303
    assert statuses(pair, "/api/me", cookie) == (401, 401)


def test_a_changed_role_and_a_disabled_user_count_at_once_in_both(pair: Pair) -> None:
    pair.access.create_user("bob", PASSWORD, "admin", "tests")
    pair.access.create_user("cat", PASSWORD, "admin", "tests")  # not the last admin
    cookie = sign_in(pair, "bob")
    assert statuses(pair, "/api/audit", cookie) == (200, 200)
    pair.access.set_role("bob", "viewer", "tests")
    assert statuses(pair, "/api/audit", cookie) == (403, 403)
    assert statuses(pair, "/api/stats", cookie) == (200, 200)
    pair.access.set_disabled("bob", True, "tests")
    assert statuses(pair, "/api/me", cookie) == (401, 401)
