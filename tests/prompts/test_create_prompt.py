"""New pairs without code: POST /prompts on the prompt service and POST /api/prompts on the gateway
(admins only) create a domain/category from JSON (201, 409 for one that exists, 422 naming the
bad part), and the very next classification, in one process or through the prompt service,
has it among its candidates and picks it for a call of it (the local analyzer, real MiniLM)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audiohub.config import ServiceSettings
from audiohub.domain import CategorySpec, Transcript
from audiohub.gateway.app import create_app
from audiohub.gateway.hub import Hub
from audiohub.prompts.client import HttpPromptStore
from audiohub.prompts.library import default_prompt
from audiohub.services import create_service_app
from tests.conftest import make_settings
from tests.keys import new_key
from tests.processes import serve_in_thread

TOKEN = "prompt-token"
AUTH = {"X-Service-Token": TOKEN}
# A category the library lacks, and a call of it in words of our own.
GYM: dict[str, Any] = {
    "domain": "fitness", "category": "membership_freeze",
    "description": "A gym member calls to pause or freeze their gym membership for some weeks "
                   "or months, because of travel, an injury or money.",
    "examples": ["I'd like to freeze my gym membership for two months.",
                 "Can I put my membership on hold while I'm away?"],
    "fields": [
        {"name": "member_name", "kind": "person", "said_by": "customer",
         "description": "the member's full name"},
        {"name": "membership_number", "kind": "code", "length": 6,
         "cues": ["membership number"], "description": "the number on the card",
         "examples": ["my membership number is [GY4021]"]},
        {"name": "freeze_reason", "kind": "choice", "description": "why they pause",
         "choices": [{"value": "travel", "synonyms": ["abroad"]}, "injury", "cost"]},
    ],
}
GYM_CALL = ("Hi, thanks for calling the gym, how can I help? Hi, I'm having knee surgery next "
            "month and I won't be able to train for a while. Could you pause my membership "
            "until March so I'm not paying for nothing?")


def _with_field(field: dict[str, Any], at: int = 2) -> dict[str, Any]:
    fields = list(GYM["fields"])
    fields[at] = field
    return {**GYM, "fields": fields}


# A bad body and the words its 422 must contain: where, and what is wrong.
INVALID: list[tuple[dict[str, Any], str]] = [
    (_with_field({"name": "freeze_reason", "kind": "colour"}), "fields.2.kind: Input should be"),
    (_with_field({"name": "freeze_reason", "kind": "choice"}), "kind choice needs its choices"),
    (_with_field({"name": "freeze_reason", "kind": "text",
                  "examples": ["because I travel"]}), "fields.2.examples"),
    (_with_field({"name": "freeze_reason", "description": "why"}), "fields.2.kind: Field required"),
    (_with_field({"name": "Freeze Reason", "kind": "text"}), "field name 'Freeze Reason' is not"),
    (_with_field({"name": "member_name", "kind": "text"}), "appears twice"),
    (_with_field({"name": "x", "kind": "text", "said by": "agent"}), "fields.2.said by"),
    ({**GYM, "category": "member ship"}, "category: String should match pattern"),
    ({**GYM, "fields": []}, "fields: List should have at least 1 item"),
    ({**GYM, "description": " "}, "description"),
]


def _is_gym(spec: dict[str, Any]) -> None:
    assert (spec["domain"], spec["category"], spec["version"], spec["source"]) == (
        "fitness", "membership_freeze", 1, "edited")
    assert spec["prompt"] == default_prompt("fitness", "membership_freeze")
    kinds = {f["name"]: (f["kind"], f["kind_inferred"]) for f in spec["fields"]}
    assert kinds == {"member_name": ("person", False), "membership_number": ("code", False),
                     "freeze_reason": ("choice", False)}
    reason = spec["fields"][2]["choices"]
    assert reason[0] == {"value": "travel", "synonyms": ["abroad"]} and len(reason) == 3


# --- the prompt service -------------------------------------------------------------------------

@pytest.fixture
def service(tmp_path: Path, database_url: str | None) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, database_url,
                             services=ServiceSettings(SERVICE_TOKEN=TOKEN))
    with TestClient(create_service_app(settings, "prompt"), headers=AUTH) as client:
        yield client


def test_the_service_creates_a_pair_once_and_serves_it_at_once(service: TestClient) -> None:
    created = service.post("/prompts", json=GYM)
    assert created.status_code == 201, created.text
    _is_gym(created.json())
    # Read back by every route the other stages use, without a restart.
    assert CategorySpec.model_validate(created.json()) in [
        CategorySpec.model_validate(s) for s in service.get("/prompts").json()]
    answer = service.post("/validate-and-generate", json={"domain": "fitness",
                                                          "category": "membership_freeze"})
    assert answer.json()["custom_prompt"] == created.json()["prompt"]
    assert service.get("/domains").json()["domains"]["fitness"] == ["membership_freeze"]

    again = service.post("/prompts", json={**GYM, "description": "Another wording."})
    assert again.status_code == 409 and again.json()["error"] == "conflict"
    assert "POST /prompts/fitness/membership_freeze" in again.json()["detail"]
    versions = service.get("/prompts/fitness/membership_freeze/versions").json()
    assert [v["description"] for v in versions] == [GYM["description"]]


def test_the_service_refuses_a_library_pair_and_needs_its_token(service: TestClient) -> None:
    taken = service.post("/prompts", json={**GYM, "domain": "banking", "category": "card_block"})
    assert taken.status_code == 409 and "version 1, library" in taken.json()["detail"]
    assert service.post("/prompts", json=GYM, headers={"X-Service-Token": "wrong"}
                        ).status_code == 401


@pytest.mark.parametrize(("body", "says"), INVALID)
def test_the_service_names_the_bad_part(service: TestClient, body: dict[str, Any],
                                        says: str) -> None:
    r = service.post("/prompts", json=body)
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"
    assert says in r.json()["detail"], r.json()["detail"]
    assert "membership_freeze" not in {s["category"] for s in service.get("/prompts").json()}


def test_a_missing_prompt_gets_the_library_default_and_a_given_one_is_kept(
        service: TestClient) -> None:
    r = service.post("/prompts", json={**GYM, "prompt": "  Extract the member's details. "})
    assert r.status_code == 201 and r.json()["prompt"] == "Extract the member's details."


# --- the gateway, in one process and in front of the prompt service ----------------------------

def _keys(client: TestClient) -> dict[str, str]:
    access = client.app.state.access  # type: ignore[attr-defined]
    return {role: new_key(access, role) for role in ("admin", "analyst", "uploader", "viewer")}


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _classify(hub: Hub, text: str) -> tuple[str, str]:
    """What the transcription stage of this process picks for `text`: its own source of pairs
    (the database, or the prompt service) and its analyzer, as for a call."""
    source = hub.parts.prompt_source
    c = hub.analyzer.classify(Transcript(text=text, language="en", duration=20.0),
                              source.all())
    return c.domain, c.category


@pytest.fixture(scope="module")
def prompt_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("prompt-service")
    settings = make_settings(root, services=ServiceSettings(SERVICE_TOKEN=TOKEN))
    with serve_in_thread(create_service_app(settings, "prompt")) as url:
        yield url


@pytest.fixture(scope="module", params=["one process", "prompt service"])
def gateway(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The gateway with its prompt stage in-process, then with PROMPT_SERVICE_URL set."""
    services = ServiceSettings()
    if request.param == "prompt service":
        services = ServiceSettings(PROMPT_SERVICE_URL=request.getfixturevalue("prompt_service"),
                                   SERVICE_TOKEN=TOKEN, SERVICE_ATTEMPTS=1)
    settings = make_settings(tmp_path_factory.mktemp("gateway") / "data", services=services)
    with TestClient(create_app(settings)) as client:
        yield client


def test_only_an_admin_creates_a_pair_and_the_next_call_is_classified_into_it(
        gateway: TestClient) -> None:
    hub: Hub = gateway.app.state.hub  # type: ignore[attr-defined]
    keys = _keys(gateway)
    # Before: a call of the new kind goes to some library pair.
    assert _classify(hub, GYM_CALL) != ("fitness", "membership_freeze")

    assert gateway.post("/api/prompts", json=GYM).status_code == 401
    for role in ("analyst", "uploader", "viewer"):
        refused = gateway.post("/api/prompts", json=GYM, headers=_bearer(keys[role]))
        assert refused.status_code == 403, role
    created = gateway.post("/api/prompts", json=GYM, headers=_bearer(keys["admin"]))
    assert created.status_code == 201, created.text
    _is_gym(created.json())

    # The next call, with no restart: this process's classifier (reading the database, or the
    # prompt service over HTTP) picks the new pair.
    assert _classify(hub, GYM_CALL) == ("fitness", "membership_freeze")
    listed = gateway.get("/api/prompts", headers=_bearer(keys["viewer"]))
    assert ("fitness", "membership_freeze") in {(s["domain"], s["category"])
                                                for s in listed.json()}
    if "prompt" in hub.remote:
        assert isinstance(hub.parts.prompt_source, HttpPromptStore)

    again = gateway.post("/api/prompts", json=GYM, headers=_bearer(keys["admin"]))
    assert again.status_code == 409, again.text
    assert "POST /api/prompts/fitness/membership_freeze" in again.json()["detail"]
    bad = gateway.post("/api/prompts", json=INVALID[0][0], headers=_bearer(keys["admin"]))
    assert bad.status_code == 422 and "body.fields.2.kind" in bad.json()["detail"]

    # A new version goes through POST /api/prompts/{domain}/{category} (admins only).
    edit = {k: created.json()[k] for k in ("description", "prompt", "fields", "examples")}
    edit["description"] = "A gym member pauses their membership."
    path = "/api/prompts/fitness/membership_freeze"
    assert gateway.post(path, json=edit, headers=_bearer(keys["analyst"])).status_code == 403
    saved = gateway.post(path, json=edit, headers=_bearer(keys["admin"]))
    assert saved.status_code == 201 and saved.json()["version"] == 2
    assert gateway.post("/api/prompts/fitness/nothing_here", json=edit,
                        headers=_bearer(keys["admin"])).status_code == 404
    trail = gateway.get("/api/audit", headers=_bearer(keys["admin"])).json()
    details = [e["detail"] for e in trail["items"] if e["action"] == "prompt_changed"]
    assert {"fitness/membership_freeze v1 (created)",
            "fitness/membership_freeze v2 (edited)"} <= set(details)


def test_the_new_routes_are_documented(gateway: TestClient) -> None:
    key = _keys(gateway)["viewer"]
    paths = gateway.get("/openapi.json", headers=_bearer(key)).json()["paths"]
    create = paths["/api/prompts"]["post"]
    assert {"201", "409", "422", "401", "403"} <= set(create["responses"])
    example = create["requestBody"]["content"]["application/json"]["examples"]
    assert example["membership_freeze"]["value"]["fields"][0]["kind"] == "person"
    assert "get" in paths["/api/prompts"] and "post" in paths["/api/prompts/{domain}/{category}"]
