"""Single sign-on through a proxy: AUTH_PROXY_HEADER names the user, believed only from the
AUTH_PROXY_TRUSTED addresses. Real uvicorn servers on 127.0.0.1, so the hub sees a real
client address (Starlette's TestClient calls itself "testclient")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from audiohub.access.service import AccessService
from audiohub.config import AuthSettings
from audiohub.gateway.app import create_app
from audiohub.persistence.db import Database, migrate
from tests.conftest import make_settings
from tests.processes import serve_in_thread

HEADER = "X-Forwarded-User"
PASSWORD = "a long enough test password"


def serve(root: Path, trusted: str) -> Iterator[str]:
    """A hub whose proxy header is believed from `trusted`, with an admin "ann" and a
    disabled "old" made in its database first."""
    auth = AuthSettings(proxy_header=HEADER, proxy_trusted=trusted,
                        proxy_default_role="analyst")
    settings = make_settings(root / "data", auth=auth)
    settings.data_dir.mkdir(parents=True)
    db = Database(settings.database_url)
    try:
        migrate(db.engine)
        access = AccessService(db, settings.auth, settings.data_dir)
        access.create_user("ann", PASSWORD, "admin", "tests")
        access.create_user("old", PASSWORD, "viewer", "tests")
        access.set_disabled("old", True, "tests")
    finally:
        db.engine.dispose()
    with serve_in_thread(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def trusted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    for url in serve(tmp_path_factory.mktemp("trusted"), "10.0.0.0/8, 127.0.0.1/32"):
        with httpx.Client(base_url=url, timeout=30) as client:
            yield client


@pytest.fixture(scope="module")
def untrusted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    for url in serve(tmp_path_factory.mktemp("untrusted"), "10.0.0.0/8"):
        with httpx.Client(base_url=url, timeout=30) as client:
            yield client


def me(client: httpx.Client, user: str | None) -> httpx.Response:
    return client.get("/api/me", headers={HEADER: user} if user else {})


def test_a_new_user_from_a_trusted_proxy_gets_the_default_role(trusted: httpx.Client) -> None:
    r = me(trusted, "pat@example.org")
    assert r.status_code == 200
    body = r.json()
    assert (body["subject"], body["role"], body["via"]) == ("pat@example.org", "analyst",
                                                            "proxy")
    assert trusted.get("/api/calls", headers={HEADER: "pat@example.org"}).status_code == 200
    assert trusted.get("/api/audit", headers={HEADER: "pat@example.org"}).status_code == 403


def test_a_known_user_from_a_trusted_proxy_keeps_their_own_role(trusted: httpx.Client) -> None:
    assert me(trusted, "ann").json()["role"] == "admin"
    assert trusted.get("/api/audit", headers={HEADER: "ann"}).status_code == 200


def test_a_disabled_user_is_refused_even_from_the_proxy(trusted: httpx.Client) -> None:
    r = me(trusted, "old")
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized"


def test_no_header_is_nobody(trusted: httpx.Client) -> None:
    assert me(trusted, None).status_code == 401


def test_a_proxied_users_post_needs_the_csrf_token(trusted: httpx.Client) -> None:
    """The proxy signs a browser in: its unsafe requests are held to the cookie's rules."""
    headers = {HEADER: "ann"}
    assert trusted.post("/api/jobs", headers=headers).status_code == 403
    page = trusted.get("/ui/", headers=headers)
    assert page.status_code == 200
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf is not None
    ok = {**headers, "X-CSRF-Token": csrf.group(1)}
    assert trusted.post("/api/jobs", headers=ok).status_code == 422  # past the guard
    assert trusted.post("/api/jobs", headers={**ok, "Origin": "https://evil.example"}
                        ).status_code == 403


def test_the_header_from_an_untrusted_address_is_ignored(untrusted: httpx.Client) -> None:
    for user in ("ann", "pat@example.org"):
        r = me(untrusted, user)
        assert r.status_code == 401
        assert r.json()["error"] == "unauthorized"
        assert untrusted.get("/api/calls", headers={HEADER: user}).status_code == 401
    assert untrusted.get("/health", headers={HEADER: "ann"}).json() == {"status": "healthy"}
