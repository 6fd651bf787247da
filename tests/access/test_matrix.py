"""The role matrix: every route of the gateway called by nobody, by a key of each role, by a
revoked key and by an expired key, on SQLite and on PostgreSQL, against the table below.

The table is written by hand from the issue's roles, not derived from roles.yaml or the
routes: it is the second statement of who may do what, and the two must agree. A route the
table does not name fails `test_the_table_names_every_route`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from audiohub.access.service import SETUP_TOKEN_FILE
from audiohub.config import RoleName
from audiohub.gateway.app import create_app
from tests.access.conftest import bearer, expired_key, make_key, revoked_key, upload
from tests.conftest import make_settings

ADMIN: frozenset[str] = frozenset({"admin"})
EVERY_ROLE = frozenset({"admin", "analyst", "uploader", "viewer"})
READERS = frozenset({"admin", "analyst", "viewer"})        # calls:read, prompts:read
UPLOADERS = frozenset({"admin", "analyst", "uploader"})    # calls:upload
ANYONE = EVERY_ROLE | {"anonymous"}
CALLERS = ("anonymous", "admin", "analyst", "uploader", "viewer", "revoked", "expired")
MISSING = 999_999  # no call has this id


@dataclass(frozen=True)
class Case:
    """A route, how to call it, who may, and what those who may get. `ok` is the status of an
    allowed caller (the request may be deliberately incomplete, so 404/422 prove the route was
    reached); `uploader` is what an uploader gets when the object is someone else's."""

    method: str
    path: str
    allowed: frozenset[str]
    ok: int
    uploader: int | None = None
    signed_in: int | None = None  # a public page that sends a signed-in caller on (303)
    # Path values other than the hub's own (the stored call, its job, the setup token).
    at: dict[str, Any] = field(default_factory=dict)


NOTHING = {"call_id": MISSING}  # delete routes are reached without deleting anything
PROMPT = {"domain": "banking", "category": "card_block"}
NOBODY = {"username": "nobody", "name": "nobody"}

TABLE: tuple[Case, ...] = (
    Case("GET", "/health", ANYONE, 200),
    Case("GET", "/health/live", ANYONE, 200),
    Case("GET", "/health/ready", ANYONE, 200),
    Case("GET", "/", EVERY_ROLE, 200),
    Case("GET", "/api/me", EVERY_ROLE, 200),
    Case("GET", "/openapi.json", EVERY_ROLE, 200),
    Case("GET", "/docs", EVERY_ROLE, 200),
    Case("GET", "/redoc", EVERY_ROLE, 200),
    Case("GET", "/docs/redoc.js", EVERY_ROLE, 200),
    Case("POST", "/api/transcribe/", UPLOADERS, 422),  # no file: reached, nothing analysed
    Case("GET", "/api/calls", EVERY_ROLE, 200),
    Case("GET", "/api/calls/{call_id}", EVERY_ROLE, 200, uploader=404),
    Case("GET", "/api/calls/{call_id}/audio", EVERY_ROLE, 200, uploader=404),
    Case("DELETE", "/api/calls/{call_id}", ADMIN, 404, at=NOTHING),
    Case("GET", "/api/stats", READERS, 200),
    Case("GET", "/api/prompts", READERS, 200),
    Case("POST", "/api/prompts", ADMIN, 422),  # no body: reached, nothing created
    Case("POST", "/api/prompts/{domain}/{category}", ADMIN, 422, at=PROMPT),  # no body
    Case("POST", "/api/jobs", UPLOADERS, 422),
    Case("GET", "/api/jobs", EVERY_ROLE, 200),
    Case("GET", "/api/jobs/{job_id}", EVERY_ROLE, 200, uploader=404),
    Case("POST", "/api/jobs/{job_id}/retry", UPLOADERS, 409, uploader=404),  # not failed
    Case("GET", "/api/audit", ADMIN, 200),
    Case("GET", "/ui", ANYONE, 307),
    Case("GET", "/ui/login", ANYONE, 200, signed_in=303),
    Case("POST", "/ui/login", ANYONE, 422),            # no name or password
    Case("POST", "/ui/logout", EVERY_ROLE, 303),
    Case("GET", "/ui/setup?token={token}", ANYONE, 200),
    Case("POST", "/ui/setup", ANYONE, 422),
    Case("GET", "/ui/", EVERY_ROLE, 200),
    Case("GET", "/ui/calls/{call_id}", EVERY_ROLE, 200, uploader=404),
    Case("GET", "/ui/calls/{call_id}/delete", ADMIN, 404, at=NOTHING),
    Case("POST", "/ui/calls/{call_id}/delete", ADMIN, 404, at=NOTHING),
    Case("GET", "/ui/upload", UPLOADERS, 200),
    Case("POST", "/ui/upload", UPLOADERS, 400),        # no file chosen
    Case("GET", "/ui/jobs?id={job_id}", EVERY_ROLE, 200, uploader=404),
    Case("POST", "/ui/jobs/{job_id}/retry", UPLOADERS, 409, uploader=404),
    Case("GET", "/ui/stats", READERS, 200),
    Case("GET", "/ui/prompts", READERS, 200),
    Case("GET", "/ui/prompts/new", ADMIN, 200),
    Case("POST", "/ui/prompts/new", ADMIN, 400),  # empty form: the page names what is missing
    Case("GET", "/ui/prompts/{domain}/{category}", READERS, 200, at=PROMPT),
    Case("POST", "/ui/prompts/{domain}/{category}", ADMIN, 422, at=PROMPT),  # no version
    Case("GET", "/ui/admin", ADMIN, 200),
    Case("POST", "/ui/admin/users", ADMIN, 422),       # no name, password or role
    Case("POST", "/ui/admin/users/{username}", ADMIN, 422, at=NOBODY),  # no action
    Case("POST", "/ui/admin/keys", ADMIN, 422),
    Case("POST", "/ui/admin/keys/{name}/revoke", ADMIN, 404, at=NOBODY),
    Case("GET", "/ui/audit", ADMIN, 200),
)

# Pages that answer a refused sign-in themselves instead of sending the browser to sign in.
SIGN_IN_PAGES = ("/ui/login", "/ui/setup")


def route_of(case: Case) -> tuple[str, str]:
    return case.method, case.path.split("?")[0]


def expected(case: Case, caller: str) -> int:
    """What the table says `caller` gets."""
    if caller in case.allowed:
        if caller == "uploader" and case.uploader is not None:
            return case.uploader
        if caller != "anonymous" and case.signed_in is not None:
            return case.signed_in
        return case.ok
    if caller in EVERY_ROLE:
        return 403
    # Nobody, or a key that no longer works (refused even on public routes: it is a wrong
    # credential, said so). A page of the dashboard sends the browser to sign in instead.
    page = case.method == "GET" and case.path.startswith("/ui/")
    return 303 if page and not case.path.startswith(SIGN_IN_PAGES) else 401


@dataclass
class Hub:
    client: TestClient
    keys: dict[str, str]      # caller -> key ("anonymous" has none)
    values: dict[str, Any]    # what the paths name: a stored call, a job, the setup token


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory,
        module_database_url: str | None) -> Iterator[Hub]:
    """One started hub per database, with a key of each kind and one stored call and job,
    both submitted by an admin key (so an uploader's key reads neither)."""
    data = tmp_path_factory.mktemp("matrix") / "data"
    app = create_app(make_settings(data, module_database_url))
    with TestClient(app, follow_redirects=False) as client:
        access = app.state.access
        keys = {role: make_key(access, role)[1] for role in EVERY_ROLE}
        keys["revoked"], keys["expired"] = revoked_key(access), expired_key(access)
        stored = upload(client, "/api/transcribe/", "silence_5s.wav", keys["admin"])
        assert stored.status_code == 200, stored.text
        job = upload(client, "/api/jobs", "silence_5s.wav", keys["admin"])
        assert job.status_code == 202, job.text
        values = {"call_id": stored.json()["database"]["call_id"],
                  "job_id": job.json()["job_id"],
                  "token": (Path(data) / SETUP_TOKEN_FILE).read_text().strip()}
        yield Hub(client, keys, values)


def call(hub: Hub, case: Case, caller: str) -> int:
    headers = bearer(hub.keys[caller]) if caller in hub.keys else {}
    path = case.path.format(**{**hub.values, **case.at})
    r = hub.client.request(case.method, path, headers=headers)
    if r.status_code == 303 and caller not in case.allowed:
        assert r.headers["location"].startswith("/ui/login?next=")
    if r.status_code == 401 and not case.path.startswith("/ui/"):
        assert r.json()["error"] == "unauthorized"
        assert r.headers["www-authenticate"].startswith("Bearer")
    return r.status_code


@pytest.mark.parametrize("case", TABLE, ids=lambda c: f"{c.method} {c.path}")
def test_route_answers_each_caller_as_the_table_says(hub: Hub, case: Case) -> None:
    got = {caller: call(hub, case, caller) for caller in CALLERS}
    assert got == {caller: expected(case, caller) for caller in CALLERS}


def test_the_table_names_every_route(hub: Hub) -> None:
    app = hub.client.app
    routes = {(m, c.path) for c in iter_route_contexts(app.routes)  # type: ignore[attr-defined]
              if isinstance(c.original_route, APIRoute) for m in c.methods or ()}
    named = {route_of(case) for case in TABLE}
    assert routes - named == set(), "routes the matrix does not call: add them to TABLE"
    assert named - routes == set(), "TABLE names routes the app does not have"


def test_key_of_each_role_is_that_role(hub: Hub) -> None:
    """The keys the matrix uses are what they claim: /api/me names each one's role."""
    roles: dict[str, RoleName] = {}
    for role in EVERY_ROLE:
        r = hub.client.get("/api/me", headers=bearer(hub.keys[role]))
        roles[role] = r.json()["role"]
        assert r.json()["via"] == "key"
    assert roles == {role: role for role in EVERY_ROLE}
