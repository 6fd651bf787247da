"""`audiohub users`, `keys`, `audit` and the export's audit row, on SQLite and PostgreSQL: what
the CLI makes is what the gateway then accepts, and each change is in the audit trail."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from audiohub.access.service import AccessService
from audiohub.cli import app
from audiohub.components import Components
from audiohub.config import Settings
from audiohub.errors import UnauthorizedError
from audiohub.gateway.app import create_app

PASSWORD = "correct horse battery"
ACTOR = f"cli:{getpass.getuser()}"
runner = CliRunner()


@pytest.fixture
def settings(data_dir: Path, database_url: str | None,
             monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The CLI reads its settings from the environment: the data dir, and DATABASE_URL for
    the PostgreSQL run."""
    if database_url is not None:
        monkeypatch.setenv("DATABASE_URL", database_url)
    return Settings()


@pytest.fixture
def access(settings: Settings) -> Iterator[AccessService]:
    parts = Components(settings)
    yield AccessService(parts.db, settings.auth, settings.data_dir)
    parts.close()


def cli(*args: str, input: str | None = None, code: int = 0) -> Result:
    r = runner.invoke(app, list(args), input=input)
    assert r.exit_code == code, r.output
    return r


def audit_rows(*args: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(cli("audit", "--json", *args).stdout)
    return rows


def test_users_create_list_disable_and_set_role(settings: Settings,
                                                access: AccessService) -> None:
    cli("users", "create", "ada", "--role", "admin", "--password-stdin", input=PASSWORD + "\n")
    # Asked twice, never echoed.
    r = cli("users", "create", "bob", "--role", "viewer", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert PASSWORD not in r.output
    access.login("bob", PASSWORD, None)
    listed = cli("users", "list").stdout
    assert "ada" in listed and "admin" in listed and "bob" in listed and "viewer" in listed

    cli("users", "disable", "bob")
    assert "disabled" in cli("users", "list").stdout
    with pytest.raises(UnauthorizedError):
        access.login("bob", PASSWORD, None)
    cli("users", "enable", "bob")
    access.login("bob", PASSWORD, None)
    cli("users", "set-role", "bob", "analyst")
    assert [u.role for u in access.users()] == ["admin", "analyst"]

    # Mistakes: a red line and exit code 2, nothing changed.
    assert "exists already" in cli("users", "create", "bob", "--role", "viewer",
                                   "--password-stdin", input=PASSWORD + "\n", code=2).output
    assert "10 to 1024 characters" in cli("users", "create", "cy", "--role", "viewer",
                                          "--password-stdin", input="short\n", code=2).output
    assert "role must be one of" in cli("users", "set-role", "bob", "boss", code=2).output
    assert "only enabled admin" in cli("users", "disable", "ada", code=2).output
    assert "no user named 'nobody'" in cli("users", "disable", "nobody", code=2).output
    assert [(u.username, u.role, u.disabled) for u in access.users()] == [
        ("ada", "admin", False), ("bob", "analyst", False)]

    actions = [(r["actor"], r["action"]) for r in audit_rows("--actor", ACTOR)]
    assert actions == [(ACTOR, a) for a in ("role_changed", "user_enabled", "user_disabled",
                                            "user_created", "user_created")]


def test_a_key_is_printed_once_works_and_stops_when_revoked(settings: Settings) -> None:
    made = cli("keys", "create", "--name", "ci", "--role", "viewer", "--expires", "30")
    key = made.stdout.strip()
    assert made.stdout == key + "\n" and key.startswith("ahk_")  # alone on stdout
    assert "shown only this once" in " ".join(made.stderr.split())
    listed = cli("keys", "list").stdout
    assert key not in listed and key[:10] in listed
    assert "ci" in listed and "viewer" in listed and "active" in listed

    with TestClient(create_app(settings)) as client:
        assert client.get("/api/calls").status_code == 401
        bearer = {"Authorization": f"Bearer {key}"}
        assert client.get("/api/calls", headers=bearer).status_code == 200
        assert client.get("/api/calls", headers={"X-API-Key": key}).status_code == 200
        assert client.delete("/api/calls/1", headers=bearer).status_code == 403  # a viewer
        cli("keys", "revoke", "ci")
        r = client.get("/api/calls", headers=bearer)
        assert r.status_code == 401 and key not in r.text
    assert "revoked" in cli("keys", "list").stdout
    assert key not in cli("audit").stdout

    assert "exists already" in cli("keys", "create", "--name", "ci", "--role", "viewer",
                                   code=2).output
    assert "greater than 0" in cli("keys", "create", "--name", "x", "--role", "admin",
                                   "--expires", "0", code=2).output
    assert [r["action"] for r in audit_rows("--actor", ACTOR)] == ["key_revoked",
                                                                   "key_created"]


def test_audit_prints_and_filters_the_rows(settings: Settings) -> None:
    cli("keys", "create", "--name", "one", "--role", "uploader")
    cli("keys", "create", "--name", "two", "--role", "analyst")
    cli("keys", "revoke", "one")
    table = cli("audit").stdout
    assert "3 of 3 audit rows" in table and "key_revoked" in table and ACTOR in table
    created = audit_rows("--action", "key_created")
    assert [r["detail"] for r in created] == ["two (analyst)", "one (uploader)"]
    assert len(audit_rows("--limit", "1")) == 1
    assert audit_rows("--actor", "cli:someone-else") == []
    assert audit_rows("--since", "2999-01-01") == []
    assert len(audit_rows("--since", "2000-01-01T00:00")) == 3
    assert "not an ISO date" in cli("audit", "--since", "yesterday", code=2).output
    assert "'lunch' is not one of" in cli("audit", "--action", "lunch", code=2).output


def test_an_export_is_audited(settings: Settings, tmp_path: Path) -> None:
    cli("export", "--format", "jsonl", "--out", str(tmp_path / "calls.jsonl"))
    [row] = audit_rows("--action", "export")
    assert (row["actor"], row["detail"]) == (ACTOR, "0 calls as jsonl")
