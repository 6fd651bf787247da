"""The admin page and the audit trail page, signed in through the login form as a person is:
users and keys made, changed and revoked from the page, a new key shown once and working
against the API, and the page closed to other roles and to forms without the CSRF token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from audiohub.access.service import AccessService
from audiohub.config import RoleName
from audiohub.gateway.app import create_app
from tests.conftest import make_settings

PASSWORD = "a long enough test password"
KEY = re.compile(r"ahk_[A-Za-z0-9_-]{20,}")


@pytest.fixture
def app_client(tmp_path: Path, database_url: str | None) -> Iterator[TestClient]:
    settings = make_settings(tmp_path / "data", database_url)
    with TestClient(create_app(settings)) as c:
        yield c


def access(client: TestClient) -> AccessService:
    service: AccessService = client.app.state.access  # type: ignore[attr-defined]
    return service


def signed_in(client: TestClient, name: str, role: RoleName) -> TestClient:
    """A new client of the started app, with a user of `role` signed in by the login form."""
    access(client).create_user(name, PASSWORD, role, "tests")
    person = TestClient(client.app)
    r = person.post("/ui/login", data={"username": name, "password": PASSWORD},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return person


def csrf_of(page: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def post(client: TestClient, path: str, **form: str) -> tuple[int, str]:
    """Post a form of the admin page as the browser would: with the page's CSRF token."""
    token = csrf_of(client.get("/ui/admin").text)
    r = client.post(path, data={"csrf_token": token, **form})
    return r.status_code, r.text


def test_an_admin_makes_a_user_and_a_key_that_works_until_revoked(
    app_client: TestClient,
) -> None:
    admin = signed_in(app_client, "root-ann", "admin")
    page = admin.get("/ui/admin")
    assert page.status_code == 200
    assert "root-ann" in page.text and 'href="/ui/audit"' in page.text
    assert page.text.count('name="csrf_token"') >= 4

    status, text = post(admin, "/ui/admin/users", username="bob", password=PASSWORD,
                        role="analyst")
    assert status == 200 and "User bob created." in text
    assert [(u.username, u.role) for u in access(app_client).users()
            if u.username == "bob"] == [("bob", "analyst")]

    status, text = post(admin, "/ui/admin/keys", name="robot", role="viewer",
                        expires_days="30")
    assert status == 201
    (key,) = set(KEY.findall(text))
    assert "not shown again" in text
    again = admin.get("/ui/admin").text
    assert key not in again and key[:10] in again  # its prefix is listed, never the key
    listed = access(app_client).keys()
    (info,) = [k for k in listed if k.name == "robot"]
    assert info.role == "viewer" and info.expires_at is not None

    with_key = TestClient(app_client.app)
    me = with_key.get("/api/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200
    assert (me.json()["subject"], me.json()["role"]) == ("key:robot", "viewer")

    status, text = post(admin, "/ui/admin/keys/robot/revoke")
    assert status == 200 and "Key robot revoked" in text
    assert re.search(r"<th scope=\"row\">robot</th>.*?revoked", text, re.DOTALL)
    refused = with_key.get("/api/me", headers={"X-API-Key": key})
    assert refused.status_code == 401

    trail = admin.get("/ui/audit")
    assert trail.status_code == 200
    for action in ("user created", "key created", "key revoked", "login"):
        assert f"<td>{action}</td>" in trail.text, action
    only = admin.get("/ui/audit", params={"action": "key_revoked", "actor": "root-ann"})
    assert only.text.count("<td>key revoked</td>") == 1
    assert "<td>key created</td>" not in only.text


def test_an_admin_disables_enables_and_changes_roles(app_client: TestClient) -> None:
    admin = signed_in(app_client, "root-ann", "admin")
    carol = signed_in(app_client, "carol", "viewer")
    assert carol.get("/ui/").status_code == 200

    status, text = post(admin, "/ui/admin/users/carol", action="disable")
    assert status == 200 and "User carol disabled" in text
    # Her session ended with it.
    assert carol.get("/api/me").status_code == 401
    status, text = post(admin, "/ui/admin/users/carol", action="enable")
    assert status == 200 and "User carol enabled" in text
    status, text = post(admin, "/ui/admin/users/carol", action="set_role", role="uploader")
    assert status == 200 and "now has the role uploader" in text
    assert {u.username: u.role for u in access(app_client).users()}["carol"] == "uploader"


def test_refused_changes_are_shown_on_the_page(app_client: TestClient) -> None:
    admin = signed_in(app_client, "root-ann", "admin")
    status, text = post(admin, "/ui/admin/users", username="root-ann", password=PASSWORD,
                        role="viewer")
    assert status == 409 and "exists already" in text and "Not done" in text
    status, text = post(admin, "/ui/admin/users", username="has space", password=PASSWORD,
                        role="viewer")
    assert status == 400 and "a user name must be" in text
    status, text = post(admin, "/ui/admin/users", username="dora", password="short",
                        role="viewer")
    assert status == 400 and "password" in text
    status, text = post(admin, "/ui/admin/users", username="dora", password=PASSWORD,
                        role="superuser")
    assert status == 400 and "role must be one of" in text
    # The only admin can neither leave nor lose the role: nobody could manage the hub.
    status, text = post(admin, "/ui/admin/users/root-ann", action="disable")
    assert status == 409 and "only enabled admin" in text
    status, text = post(admin, "/ui/admin/users/root-ann", action="set_role", role="viewer")
    assert status == 409
    status, text = post(admin, "/ui/admin/keys", name="k1", role="viewer",
                        expires_days="soon")
    assert status == 400 and "number of days" in text
    status, text = post(admin, "/ui/admin/keys/nope/revoke")
    assert status == 404 and "no key named" in text
    assert not KEY.search(text)
    assert [u.username for u in access(app_client).users()] == ["root-ann"]


def test_other_roles_get_403(app_client: TestClient) -> None:
    for role in ("viewer", "analyst", "uploader"):
        person = signed_in(app_client, f"{role}-ann", role)
        assert person.get("/ui/admin").status_code == 403, role
        assert person.get("/ui/audit").status_code == 403, role
        assert 'href="/ui/admin"' not in person.get("/ui/").text
        r = person.post("/ui/admin/keys", data={"name": "mine", "role": "admin"})
        assert r.status_code == 403, role
    assert not access(app_client).keys()


def test_forms_without_the_csrf_token_are_refused(app_client: TestClient) -> None:
    admin = signed_in(app_client, "root-ann", "admin")
    forms = [("/ui/admin/users", {"username": "eve", "password": PASSWORD, "role": "admin"}),
             ("/ui/admin/keys", {"name": "eve", "role": "admin"}),
             ("/ui/admin/users/root-ann", {"action": "set_role", "role": "viewer"})]
    for path, form in forms:
        r = admin.post(path, data=form)
        assert r.status_code == 403 and "CSRF" in r.text, path
        r = admin.post(path, data={**form, "csrf_token": "not-the-token"})
        assert r.status_code == 403, path
    assert [u.username for u in access(app_client).users()] == ["root-ann"]
    assert not access(app_client).keys()
