"""The gateway's calls API for the dashboard: the list's filters, sorting and search, and a call's
audio with byte ranges. In one process (SQLite and PostgreSQL), and through HttpPersistence
against a real persistence service process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from audiohub.config import ServiceSettings
from audiohub.gateway.app import create_app
from audiohub.gateway.hub import Hub
from audiohub.persistence.db import Database
from tests.conftest import make_settings
from tests.keys import authorize
from tests.persistence.calls import SPECS, Stored, backdate, expected_order, record_of
from tests.persistence.test_store import WAV
from tests.processes import Server, free_port

TOKEN = "calls-api-token"
# Nothing listens there: the stages that would load models "run elsewhere" and are never called,
# so the gateway starts in a moment; these tests only read stored calls.
NOWHERE = "http://127.0.0.1:9"
AUDIO_BYTES = WAV.read_bytes()
SIZE = len(AUDIO_BYTES)
# Filters as the dashboard sends them, with the SPECS indexes each must list.
QUERIES: list[tuple[dict[str, Any], list[int] | None]] = [
    ({"since": "2026-01-01", "until": "2026-01-01", "sort": "created_at", "order": "asc"},
     [0, 1]),
    ({"q": "card", "sort": "filename", "order": "desc"}, [5, 0]),
    ({"q": "refund", "since": "2026-01-02", "sort": "duration_seconds", "order": "asc"}, [5, 2]),
    ({"domain": "banking", "needs_review": "false"}, [0]),
    ({"needs_review": "true", "sort": "sentiment", "order": "asc"}, [3, 5, 1]),
    ({"category": "card_block", "until": "2026-01-05", "sort": "outcome"}, None),
    ({"sort": "outcome", "order": "asc", "limit": 2, "offset": 1}, None),
]


def gateway_settings(root: Path, database_url: str | None, **services: str) -> Any:
    return make_settings(root, database_url, services=ServiceSettings(
        TRANSCRIPTION_SERVICE_URL=NOWHERE, EXTRACTION_SERVICE_URL=NOWHERE, **services))


def ids_of(body: dict[str, Any]) -> list[int]:
    return [item["call_id"] for item in body["items"]]


def check_audio(get: Any, call_id: int) -> None:
    """What an <audio> element needs of GET .../audio: 200 whole, 206 for a range, 416 past the
    end; a call that does not exist is the API's JSON 404."""
    whole = get(f"/api/calls/{call_id}/audio")
    assert whole.status_code == 200, whole.text
    assert whole.content == AUDIO_BYTES
    assert whole.headers["content-type"] == "audio/wav"
    assert whole.headers["content-length"] == str(SIZE)
    assert whole.headers["accept-ranges"] == "bytes"

    part = get(f"/api/calls/{call_id}/audio", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206, part.text
    assert part.content == AUDIO_BYTES[:100]
    assert part.headers["content-range"] == f"bytes 0-99/{SIZE}"
    assert part.headers["content-length"] == "100"
    assert part.headers["content-type"] == "audio/wav"

    tail = get(f"/api/calls/{call_id}/audio", headers={"Range": f"bytes={SIZE - 10}-"})
    assert tail.status_code == 206 and tail.content == AUDIO_BYTES[-10:]

    beyond = get(f"/api/calls/{call_id}/audio", headers={"Range": f"bytes={SIZE}-{SIZE + 99}"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{SIZE}"

    missing = get("/api/calls/999999/audio")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found" and "999999" in missing.json()["detail"]
    assert get("/api/calls/0/audio").status_code == 422


def check_refusals(get: Any) -> None:
    for params, wrong in [({"since": "2026-01-02", "until": "2026-01-01"}, "since"),
                          ({"sort": "transcription"}, "sort"),
                          ({"order": "up"}, "order"),
                          ({"since": "yesterday"}, "since"),
                          ({"q": "x" * 201}, "q")]:
        r = get("/api/calls", params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["error"] == "invalid_request" and wrong in r.json()["detail"], r.text


# --- one process ------------------------------------------------------------------------------

@pytest.fixture
def client(tmp_path: Path, database_url: str | None) -> Iterator[TestClient]:
    with TestClient(create_app(gateway_settings(tmp_path / "data", database_url))) as c:
        yield authorize(c, "viewer")  # reads every call, and listens; changes nothing


@pytest.fixture
def calls(client: TestClient) -> list[Stored]:
    hub: Hub = client.app.state.hub  # type: ignore[attr-defined]
    return backdate(hub.store.db, [hub.store.save(record_of(spec), WAV) for spec in SPECS])


def test_the_list_takes_the_dashboard_s_filters(client: TestClient,
                                                calls: list[Stored]) -> None:
    for params, want in QUERIES:
        r = client.get("/api/calls", params=params)
        assert r.status_code == 200, r.text
        if want is not None:
            assert ids_of(r.json()) == [calls[i].id for i in want], params
    every = client.get("/api/calls", params={"sort": "outcome", "order": "desc"}).json()
    assert ids_of(every) == expected_order(calls, "outcome", "desc")
    assert every["items"][0]["outcome"] == "unresolved" and every["items"][-1]["outcome"] is None
    # Hostile input is a search like any other.
    assert client.get("/api/calls", params={"q": 'a"b OR ('}).status_code == 200
    check_refusals(client.get)


def test_a_call_s_audio_with_ranges(client: TestClient, calls: list[Stored]) -> None:
    check_audio(client.get, calls[0].id)


def test_stats_for_the_dashboard(client: TestClient, calls: list[Stored]) -> None:
    s = client.get("/api/stats").json()
    assert s["calls_per_day"] == {"2026-01-01": 2, "2026-01-02": 1, "2026-01-03": 1,
                                  "2026-01-05": 2}
    assert (s["needs_review_count"], s["needs_review_rate"]) == (3, 0.5)
    assert s["average_duration_by_domain"]["healthcare"] == 90.0
    assert {"total_calls", "by_domain", "by_category", "average_duration_seconds",
            "average_sentiment"} <= s.keys()  # the seed's keys stay


# --- the persistence service in its own process ---------------------------------------------

@dataclass
class Remote:
    service: str
    calls: list[Stored]


@pytest.fixture(scope="module")
def remote(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Remote]:
    """A real `audiohub serve persistence` on its own PostgreSQL database (made here: conftest's
    pg_url is per test), holding SPECS stored through the service's API."""
    root = tmp_path_factory.mktemp("persistence")
    name = f"audiohub_calls_{root.name.replace('-', '_')}"[:60]
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{pg_server.rsplit('/', 1)[0]}/{name}"
    server = Server("persistence", free_port(), {
        "AUDIOHUB_DATA_DIR": str(root / "data"), "DATABASE_URL": url, "SERVICE_TOKEN": TOKEN},
        root / "persistence.log")
    try:
        server.start()
        ids = []
        for spec in SPECS:
            record = record_of(spec)
            r = httpx.post(f"{server.url}/save", headers={"X-Service-Token": TOKEN}, files={
                "record": ("record.json", record.model_dump_json(), "application/json"),
                "audio": ("call.wav", AUDIO_BYTES, "audio/wav")})
            assert r.status_code == 200, r.text
            ids.append(r.json()["call_id"])
        db = Database(make_settings(root, url).database_url)
        calls = backdate(db, ids)
        db.engine.dispose()
        yield Remote(server.url, calls)
    finally:
        server.stop()
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def gateway(remote: Remote, tmp_path: Path) -> Iterator[TestClient]:
    settings = gateway_settings(tmp_path / "gateway", None,
                                PERSISTENCE_SERVICE_URL=remote.service, SERVICE_TOKEN=TOKEN)
    with TestClient(create_app(settings)) as c:
        hub: Hub = c.app.state.hub  # type: ignore[attr-defined]
        assert hub.remote == {"transcription", "extraction", "persistence"}  # HttpPersistence
        yield authorize(c, "viewer")


@pytest.mark.postgres
def test_http_persistence_forwards_every_filter(gateway: TestClient, remote: Remote) -> None:
    auth = {"X-Service-Token": TOKEN}
    for params, want in QUERIES:
        through = gateway.get("/api/calls", params=params)
        assert through.status_code == 200, through.text
        direct = httpx.get(f"{remote.service}/calls", params=params, headers=auth)
        assert through.json() == direct.json(), params
        if want is not None:
            assert ids_of(through.json()) == [remote.calls[i].id for i in want], params
    check_refusals(gateway.get)


@pytest.mark.postgres
def test_http_persistence_streams_audio_ranges(gateway: TestClient, remote: Remote) -> None:
    call_id = remote.calls[0].id
    direct = httpx.get(f"{remote.service}/audio/{call_id}",
                       headers={"X-Service-Token": TOKEN, "Range": "bytes=0-99"})
    assert (direct.status_code, direct.content) == (206, AUDIO_BYTES[:100])
    assert httpx.get(f"{remote.service}/audio/{call_id}").status_code == 401  # token needed
    check_audio(gateway.get, call_id)
