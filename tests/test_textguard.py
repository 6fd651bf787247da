"""Invalid text in any parameter (NUL, a lone surrogate or stray byte, an over-long value) gets
422 `invalid_request` naming the parameter, on every service and on SQLite and PostgreSQL,
where it used to reach the database as a 500 (PostgreSQL refuses NUL in text) or a 502 from a
stage. The services are the real apps with their lifespans, called in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audiohub.config import ServiceSettings, Settings
from audiohub.gateway.app import create_app
from audiohub.services import create_service_app
from tests.conftest import make_settings
from tests.keys import authorize

TOKEN = "textguard-token"
# Nothing listens there: the gateway's model stages "run elsewhere", so it starts in a moment.
NOWHERE = "http://127.0.0.1:9"
LONG = "a" * 2001
PAIR = "healthcare/appointment_scheduling"
EDIT = {"description": "d", "prompt": "Extract the fields.", "fields": [{"name": "doctor"}],
        "examples": ["I need a checkup"]}

# (method, path, what is sent, the parameter the answer must name). The body is JSON (a dict)
# or a url-encoded form (a str).
Row = tuple[str, str, dict[str, Any] | str | None, str]
GATEWAY: list[Row] = [
    ("GET", "/api/calls?domain=%00", None, "query.domain"),
    ("GET", "/api/calls?q=%ED%A0%80", None, "query.q"),  # a UTF-8-encoded lone surrogate
    ("GET", "/api/calls?category=%FF", None, "query.category"),
    ("GET", f"/api/calls?domain={LONG}", None, "query.domain"),
    ("GET", "/api/calls?%00=1", None, "query"),
    ("GET", "/api/jobs/%00", None, "path"),
    ("GET", f"/api/jobs/{LONG}", None, "path"),
    ("GET", "/api/jobs?status=%00", None, "query.status"),
    ("GET", "/api/audit?actor=%00", None, "query.actor"),
    ("POST", "/ui/login", "username=admin%00&password=0123456789", "form.username"),
    ("POST", f"/ui/prompts/{PAIR}", "version=1&prompt=a%00b", "form.prompt"),
]
PROMPT: list[Row] = [
    ("GET", "/fetch-prompt?domain=%00&category=x", None, "query.domain"),
    ("GET", "/fetch-prompt?domain=healthcare&category=%ED%A0%80", None, "query.category"),
    ("GET", "/prompts/%00/x/versions", None, "path"),
    ("POST", f"/prompts/{PAIR}", {**EDIT, "prompt": "a\x00b"}, "body.prompt"),
    ("POST", f"/prompts/{PAIR}", {**EDIT, "description": "\ud800"}, "body.description"),
    ("POST", f"/prompts/{PAIR}", {**EDIT, "examples": ["\x00"]}, "body.examples.0"),
    ("POST", f"/prompts/{PAIR}", {**EDIT, "fields": [{"name": "doctor", "description": "\x00"}]},
     "body.fields.0.description"),
    ("POST", "/validate-and-generate", {"domain": "\x00", "category": "x"}, "body.domain"),
]
PERSISTENCE: list[Row] = [
    ("GET", "/calls?domain=%00", None, "query.domain"),
    ("GET", "/calls?submitted_by=%ED%A0%80", None, "query.submitted_by"),
    ("GET", "/call/%00", None, "path"),
    ("GET", f"/calls?q={LONG}", None, "query.q"),
]
MODEL_STAGES: dict[str, list[Row]] = {
    "transcription": [("POST", "/transcribe?filename=%00", None, "query.filename")],
    "extraction": [("POST", "/extract?x=%ED%A0%80", {"transcription": "hi", "domain": "a",
                                                     "category": "b"}, "query.x")],
}


def send(client: TestClient, row: Row) -> Any:
    method, path, body, _ = row
    if isinstance(body, str):
        return client.request(method, path, content=body,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    if body is None:
        return client.request(method, path)
    # Python's json keeps a lone surrogate as the escape "\ud800", as a client would send it.
    return client.request(method, path, content=json.dumps(body),
                          headers={"Content-Type": "application/json"})


def check(client: TestClient, rows: list[Row], page: bool = False) -> None:
    for row in rows:
        response = send(client, row)
        assert response.status_code == 422, (row, response.status_code, response.text[:300])
        if row[1].startswith("/ui/"):  # the dashboard shows the same error as a page
            assert "invalid_request" in response.text and row[3] in response.text, row
            continue
        body = response.json()
        assert set(body) == {"error", "detail"}, (row, body)
        assert body["error"] == "invalid_request", (row, body)
        assert isinstance(body["detail"], str) and body["detail"].startswith(row[3]), (row, body)


def stage_settings(root: Path, database_url: str | None) -> Settings:
    return make_settings(root, database_url, services=ServiceSettings(SERVICE_TOKEN=TOKEN))


def test_gateway(tmp_path: Path, database_url: str | None) -> None:
    settings = make_settings(tmp_path, database_url, services=ServiceSettings(
        TRANSCRIPTION_SERVICE_URL=NOWHERE, EXTRACTION_SERVICE_URL=NOWHERE))
    with TestClient(create_app(settings)) as client:
        authorize(client)
        check(client, GATEWAY)
        # The same routes with ordinary text answer as before.
        assert client.get("/api/calls", params={"domain": "banking", "q": "café"}).json() == {
            "total": 0, "items": []}
        assert client.get("/api/jobs/abc").status_code == 404
        too_long = client.get("/api/calls", params={"q": "a" * 201})  # the route's own limit
        assert too_long.status_code == 422 and "query.q" in too_long.json()["detail"]
        # A url-encoded form is read whole to be checked: past 2 MiB it is refused unread.
        huge = client.post("/ui/login", content="username=" + "a" * (3 << 20),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert huge.status_code == 413 and "form_too_large" in huge.text


@pytest.mark.parametrize("stage", ["prompt", "persistence"])
def test_database_stages(tmp_path: Path, database_url: str | None, stage: str) -> None:
    app = create_service_app(stage_settings(tmp_path, database_url), stage)  # type: ignore[arg-type]
    with TestClient(app, headers={"X-Service-Token": TOKEN}) as client:
        check(client, PROMPT if stage == "prompt" else PERSISTENCE)
        if stage == "prompt":  # a clean edit of the same pair is still saved
            saved = client.post(f"/prompts/{PAIR}", json=EDIT)
            assert saved.status_code == 201, saved.text
            assert saved.json()["prompt"] == EDIT["prompt"]
        else:
            assert client.get("/calls", params={"domain": "x"}).json()["total"] == 0


@pytest.fixture(scope="module")
def model_stages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, TestClient]]:
    root = tmp_path_factory.mktemp("textguard")
    clients = {}
    for stage in MODEL_STAGES:
        app = create_service_app(stage_settings(root / stage, None), stage)  # type: ignore[arg-type]
        clients[stage] = TestClient(app, headers={"X-Service-Token": TOKEN}).__enter__()
    yield clients
    for client in clients.values():
        client.__exit__(None, None, None)


@pytest.mark.parametrize("stage", list(MODEL_STAGES))
def test_model_stages(model_stages: dict[str, TestClient], stage: str) -> None:
    check(model_stages[stage], MODEL_STAGES[stage])
