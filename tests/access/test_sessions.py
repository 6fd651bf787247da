"""The dashboard's sign-in: the one-time setup link, the session cookie, signing out, a
disabled user, the same-origin rule and CSRF tokens on cookie requests, failed logins in the
audit trail, and the login and upload rate limits."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audiohub.access.guard import SESSION_COOKIE
from audiohub.access.schemas import AuditAction, AuditFilter
from audiohub.access.service import SETUP_TOKEN_FILE, AccessService
from audiohub.config import AuthSettings
from audiohub.gateway.app import create_app
from tests.access.conftest import access_of, bearer, make_key
from tests.conftest import make_settings

PASSWORD = "a long enough test password"
USERS = {"ann": "admin", "ula": "uploader", "vic": "viewer", "dan": "viewer"}
EVIL = "https://evil.example"


def started(data: Path, **auth: Any) -> TestClient:
    app = create_app(make_settings(data, auth=AuthSettings(**auth)))
    return TestClient(app, follow_redirects=False)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the form; the session token. The client's own cookie jar is emptied,
    so each request names the session it means."""
    r = client.post("/ui/login", data={"username": username, "password": password})
    assert r.status_code == 303, r.text
    token: str = r.cookies[SESSION_COOKIE]
    client.cookies.clear()
    return token


def cookie(token: str, **extra: str) -> dict[str, str]:
    return {"Cookie": f"{SESSION_COOKIE}={token}", **extra}


def csrf_of(access: AccessService, token: str) -> str:
    principal = access.by_session(token)
    assert principal is not None and principal.csrf is not None
    csrf: str = principal.csrf
    return csrf


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with started(tmp_path_factory.mktemp("sessions") / "data") as c:
        for name, role in USERS.items():
            access_of(c).create_user(name, PASSWORD, role, "tests")
        yield c


# --- the first admin ------------------------------------------------------------------------

def test_the_setup_link_works_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with started(data) as client:
        file = data / SETUP_TOKEN_FILE
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
        token = file.read_text().strip()
        assert client.get("/ui/setup", params={"token": "not-the-token"}).status_code == 401
        page = client.get("/ui/setup", params={"token": token})
        assert page.status_code == 200
        assert token in page.text  # the form carries it to the POST
        r = client.post("/ui/setup", data={"token": token, "username": "first",
                                           "password": PASSWORD})
        assert r.status_code == 303
        assert r.headers["location"].startswith("/ui/login")
        assert [(u.username, u.role) for u in access_of(client).users()] == [("first", "admin")]
        assert not file.exists()
        assert client.get("/ui/setup", params={"token": token}).status_code == 401
        again = client.post("/ui/setup", data={"token": token, "username": "second",
                                               "password": PASSWORD})
        assert again.status_code == 401
        assert [u.username for u in access_of(client).users()] == ["first"]
        assert client.get("/api/me", headers=cookie(sign_in(client, "first"))).json()[
            "role"] == "admin"
        made = access_of(client).audit_page(AuditFilter(action=AuditAction.USER_CREATED))
        assert [(e.actor, e.detail) for e in made.items] == [("setup", "first (admin)")]


# --- the session cookie ---------------------------------------------------------------------

def test_login_sets_an_http_only_same_site_cookie(client: TestClient) -> None:
    r = client.post("/ui/login", data={"username": "vic", "password": PASSWORD,
                                       "next": "/ui/stats"})
    client.cookies.clear()
    assert r.status_code == 303
    assert r.headers["location"] == "/ui/stats"
    attrs = [a.strip().lower() for a in r.headers["set-cookie"].split(";")]
    assert attrs[0].startswith(f"{SESSION_COOKIE}=")
    assert {"httponly", "samesite=lax", "path=/"} <= set(attrs)
    assert "secure" not in attrs  # plain http, AUTH_COOKIE_SECURE unset
    me = client.get("/api/me", headers=cookie(r.cookies[SESSION_COOKIE])).json()
    assert (me["subject"], me["role"], me["via"]) == ("vic", "viewer", "session")


def test_the_cookie_is_secure_with_auth_cookie_secure(tmp_path: Path) -> None:
    with started(tmp_path / "data", cookie_secure=True) as client:
        access_of(client).create_user("sam", PASSWORD, "viewer", "tests")
        r = client.post("/ui/login", data={"username": "sam", "password": PASSWORD})
        assert r.status_code == 303
        attrs = [a.strip().lower() for a in r.headers["set-cookie"].split(";")]
        assert {"secure", "httponly", "samesite=lax"} <= set(attrs)


def test_a_page_carries_the_sessions_csrf_token(client: TestClient) -> None:
    token = sign_in(client, "ann")
    page = client.get("/ui/", headers=cookie(token))
    assert page.status_code == 200
    sent = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert sent is not None and sent.group(1) == csrf_of(access_of(client), token)


def test_logout_ends_the_session(client: TestClient) -> None:
    token = sign_in(client, "vic")
    assert client.get("/api/me", headers=cookie(token)).status_code == 200
    csrf = csrf_of(access_of(client), token)
    r = client.post("/ui/logout", headers=cookie(token, **{"X-CSRF-Token": csrf}))
    assert r.status_code == 303
    assert r.headers["location"] == "/ui/login"
    assert f'{SESSION_COOKIE}=""' in r.headers["set-cookie"]  # the browser forgets it
    # A copy of the cookie kept elsewhere works no more either: the session row is gone.
    assert client.get("/api/me", headers=cookie(token)).status_code == 401
    assert client.get("/ui/", headers=cookie(token)).status_code == 303  # to the sign-in
    logouts = access_of(client).audit_page(AuditFilter(action=AuditAction.LOGOUT, actor="vic"))
    assert logouts.total == 1


def test_disabling_a_user_ends_their_session(client: TestClient) -> None:
    token = sign_in(client, "dan")
    assert client.get("/api/me", headers=cookie(token)).status_code == 200
    access_of(client).set_disabled("dan", True, "tests")
    assert client.get("/api/me", headers=cookie(token)).status_code == 401
    r = client.post("/ui/login", data={"username": "dan", "password": PASSWORD})
    assert r.status_code == 401
    assert SESSION_COOKIE not in r.cookies


# --- same origin and CSRF -------------------------------------------------------------------

@pytest.mark.parametrize("sender", [{"Origin": EVIL}, {"Sec-Fetch-Site": "cross-site"},
                                    {"Referer": f"{EVIL}/page"}])
def test_a_cross_site_post_with_the_cookie_is_refused(
    client: TestClient, sender: dict[str, str]
) -> None:
    token = sign_in(client, "ann")
    csrf = csrf_of(access_of(client), token)
    # Even with the right token: another site's page must not act with the user's cookie.
    for path, form in (("/api/jobs", None), ("/ui/prompts/banking/card_block",
                                             {"version": "1", "action": "save"})):
        r = client.post(path, data=form, headers=cookie(token, **{"X-CSRF-Token": csrf},
                                                        **sender))
        assert r.status_code == 403, path
    # The same requests from this hub's own pages get past the guard (to the handler's 422
    # for the missing file, and a 409 for the stale version, nothing saved).
    own = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin",
           "X-CSRF-Token": csrf}
    assert client.post("/api/jobs", headers=cookie(token, **own)).status_code == 422
    r = client.post("/ui/prompts/banking/card_block", data={"version": "999"},
                    headers=cookie(token, **own))
    assert r.status_code == 409


def test_a_cookie_post_needs_the_csrf_token(client: TestClient) -> None:
    token = sign_in(client, "ula")
    csrf = csrf_of(access_of(client), token)
    assert client.post("/api/jobs", headers=cookie(token)).status_code == 403
    wrong = cookie(token, **{"X-CSRF-Token": "x" * len(csrf)})
    assert client.post("/api/jobs", headers=wrong).status_code == 403
    assert client.post("/ui/logout", headers=cookie(token)).status_code == 403
    assert client.get("/api/me", headers=cookie(token)).status_code == 200  # still signed in
    right = cookie(token, **{"X-CSRF-Token": csrf})
    assert client.post("/api/jobs", headers=right).status_code == 422  # past the guard
    # The form field works as the header does (the logout button's form).
    r = client.post("/ui/logout", data={"csrf_token": csrf}, headers=cookie(token))
    assert r.status_code == 303
    assert client.get("/api/me", headers=cookie(token)).status_code == 401


def test_a_key_needs_no_csrf_token_and_no_origin(client: TestClient) -> None:
    """Programs send keys, not cookies: another site cannot make a browser send one."""
    key = make_key(access_of(client), "uploader")[1]
    assert client.post("/api/jobs", headers=bearer(key)).status_code == 422
    assert client.post("/api/jobs", headers={"X-API-Key": key}).status_code == 422


# --- failed logins and rate limits ----------------------------------------------------------

def test_a_failed_login_is_audited_and_says_nothing_of_which_part_was_wrong(
    client: TestClient
) -> None:
    wrong_password = client.post("/ui/login", data={"username": "ann", "password": "x" * 12})
    no_such_user = client.post("/ui/login", data={"username": "zed", "password": PASSWORD})
    assert (wrong_password.status_code, no_such_user.status_code) == (401, 401)
    assert "wrong user name or password" in wrong_password.text
    assert "wrong user name or password" in no_such_user.text
    failed = access_of(client).audit_page(AuditFilter(action=AuditAction.LOGIN_FAILED))
    assert {e.actor for e in failed.items} >= {"ann", "zed"}
    assert all(e.address == "testclient" for e in failed.items)


def test_repeated_failed_logins_get_429_with_retry_after(tmp_path: Path) -> None:
    with started(tmp_path / "data", login_rate="3/minute") as client:
        access_of(client).create_user("ann", PASSWORD, "admin", "tests")
        for _ in range(3):
            r = client.post("/ui/login", data={"username": "ann", "password": "x" * 12})
            assert r.status_code == 401
        r = client.post("/ui/login", data={"username": "ann", "password": "x" * 12})
        assert r.status_code == 429
        assert 0 < int(r.headers["retry-after"]) <= 60
        # Locked for the window, the right password too: guessing cannot go on meanwhile.
        r = client.post("/ui/login", data={"username": "ann", "password": PASSWORD})
        assert r.status_code == 429
        failed = access_of(client).audit_page(AuditFilter(action=AuditAction.LOGIN_FAILED))
        assert failed.total == 3  # refused attempts never reached the password check


def test_uploads_past_the_limit_get_429_with_retry_after(tmp_path: Path) -> None:
    with started(tmp_path / "data", upload_rate="2/minute") as client:
        key, other = (make_key(access_of(client), "uploader")[1] for _ in range(2))
        # Refused uploads count too: the limit is on attempts, before the body is read.
        for _ in range(2):
            assert client.post("/api/transcribe/", headers=bearer(key)).status_code == 422
        r = client.post("/api/jobs", headers=bearer(key))
        assert r.status_code == 429
        assert r.json()["error"] == "rate_limited"
        assert 0 < int(r.headers["retry-after"]) <= 60
        assert client.post("/api/transcribe/", headers=bearer(key)).status_code == 429
        # Per key: another key of the same role is not held back.
        assert client.post("/api/transcribe/", headers=bearer(other)).status_code == 422
