"""The audit trail: each audited action on a call leaves its row (who, what, which call, from
where), `GET /api/audit` filters and pages them for admins only, and retention never deletes
them. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audiohub.access.schemas import AuditAction
from audiohub.config import AuthSettings
from audiohub.gateway.app import create_app
from audiohub.persistence.retention import purge
from tests.access.conftest import access_of, bearer, make_key, upload
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory,
        module_database_url: str | None) -> Iterator[tuple[TestClient, str, str]]:
    """A started hub with an admin key (and its name) whose every request is audited."""
    data = tmp_path_factory.mktemp("audit") / "data"
    with TestClient(create_app(make_settings(data, module_database_url)),
                    follow_redirects=False) as client:
        name, key = make_key(access_of(client), "admin")
        client.headers.update(bearer(key))
        yield client, f"key:{name}", key


def rows(client: TestClient, **query: Any) -> list[dict[str, Any]]:
    r = client.get("/api/audit", params=query)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def test_reading_playing_editing_and_deleting_a_call_each_leave_a_row(
        hub: tuple[TestClient, str, str]) -> None:
    client, actor, key = hub
    r = upload(client, "/api/transcribe/", "banking_card_block_16k.wav", key)
    assert r.status_code == 200, r.text
    call_id = r.json()["database"]["call_id"]

    assert client.get(f"/api/calls/{call_id}").status_code == 200
    assert client.get(f"/ui/calls/{call_id}").status_code == 200
    assert client.get(f"/api/calls/{call_id}/audio").status_code == 200
    # A player's later ranges are the same play: one row for the play, not one per range.
    ranged = client.get(f"/api/calls/{call_id}/audio", headers={"Range": "bytes=100-199"})
    assert ranged.status_code == 206
    form = {"action": "save", "version": "1", "prompt": "Audited edit",
            "fields": "customer_name: who calls"}
    assert client.post("/ui/prompts/banking/card_block", data=form).status_code == 303
    assert client.delete(f"/api/calls/{call_id}").status_code == 204

    of_call = rows(client, call_id=call_id)
    assert sorted(r["action"] for r in of_call) == [
        "audio_played", "call_deleted", "call_viewed", "call_viewed"]
    for row in of_call:
        assert row["actor"] == actor
        assert row["address"] == "testclient"  # Starlette's TestClient's client address
    edits = rows(client, action="prompt_changed")
    assert [e["detail"] for e in edits] == ["banking/card_block v2 (save)"]
    assert edits[0]["actor"] == actor and edits[0]["call_id"] is None


def test_the_trail_filters_pages_and_is_for_admins_only(
        hub: tuple[TestClient, str, str]) -> None:
    client, _, _ = hub
    access = access_of(client)
    for i in range(3):
        access.audit("someone-else", AuditAction.CALL_VIEWED, call_id=9000 + i)
    mine = rows(client, actor="someone-else")
    assert [r["call_id"] for r in mine] == [9002, 9001, 9000]  # newest first
    page = client.get("/api/audit", params={"actor": "someone-else", "limit": 2, "offset": 1})
    assert page.json()["total"] == 3
    assert [r["call_id"] for r in page.json()["items"]] == [9001, 9000]
    assert client.get("/api/audit", params={"action": "nonsense"}).status_code == 422
    for role in ("analyst", "uploader", "viewer"):
        _, other = make_key(access, role)  # type: ignore[arg-type]
        assert client.get("/api/audit", headers=bearer(other)).status_code == 403
    assert TestClient(client.app).get("/api/audit").status_code == 401


def test_retention_deletes_calls_but_never_their_audit_rows(
        hub: tuple[TestClient, str, str]) -> None:
    client, _, key = hub
    r = upload(client, "/api/transcribe/", "banking_card_block_16k.wav", key)
    call_id = r.json()["database"]["call_id"]
    assert client.get(f"/api/calls/{call_id}").status_code == 200
    settings = client.app.state.settings  # type: ignore[attr-defined]
    policy = settings.model_copy(update={"auth": AuthSettings(retention_days=1)})
    report = purge(client.app.state.hub.store, policy,  # type: ignore[attr-defined]
                   now=datetime.now(UTC) + timedelta(days=2))
    assert call_id in report.calls_deleted
    assert client.get(f"/api/calls/{call_id}").status_code == 404
    assert [r["action"] for r in rows(client, call_id=call_id)] == ["call_viewed"]
    assert rows(client, action="purge")



def test_a_deleted_calls_id_is_never_given_to_another_call(
        hub: tuple[TestClient, str, str]) -> None:
    """The audit rows and links of a deleted call must not become a new call's (SQLite would
    reuse the highest id without AUTOINCREMENT; PostgreSQL's sequence never does)."""
    client, _, key = hub
    first = upload(client, "/api/transcribe/", "banking_card_block_16k.wav", key)
    newest = first.json()["database"]["call_id"]
    assert client.delete(f"/api/calls/{newest}").status_code == 204
    second = upload(client, "/api/transcribe/", "banking_card_block_16k.wav", key)
    assert second.json()["database"]["call_id"] > newest
