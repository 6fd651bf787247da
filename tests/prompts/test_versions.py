"""Prompt versions for the dashboard's review, on real SQLite and PostgreSQL: every edit or
approval is a new version, history lists them newest first, the next call uses the latest, and
the prompt service's endpoints refuse bad edits and unknown pairs without storing anything."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient

from audiohub.config import LLMSettings, ServiceSettings
from audiohub.domain import CategorySpec
from audiohub.errors import NotFoundError
from audiohub.extraction.backends.llm import LLMAnalyzer
from audiohub.gateway.clients import LocalPrompts
from audiohub.llm.openai_compat import OpenAICompatClient
from audiohub.persistence.db import Database, migrate
from audiohub.prompts.generation import PromptGenerator
from audiohub.prompts.schemas import PromptEdit
from audiohub.prompts.service import SqlPromptStore
from audiohub.services import create_service_app
from tests.conftest import make_settings
from tests.llm.conftest import ScriptedOpenAI, Step

TOKEN = "prompt-token"
AUTH = {"X-Service-Token": TOKEN}
EDIT = {"description": "A card is blocked.", "prompt": "Extract the card details.",
        "fields": [{"name": "customer_name", "description": "who called"},
                   {"name": "card_last_four", "description": "last four digits"}],
        "examples": ["please block my card"]}
LOST_BAG = {"description": "A passenger reports a bag that did not arrive.",
            "prompt": "Extract the passenger's details and the bag's tag.",
            "fields": [{"name": "passenger_name", "description": "who lost the bag"},
                       {"name": "bag_tag", "description": "the baggage tag number"}]}


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> SqlPromptStore:
    db = Database(make_settings(tmp_path, database_url).database_url)
    migrate(db.engine)
    store = SqlPromptStore(db)
    store.seed()
    return store


@pytest.fixture(scope="module")
def openai() -> Iterator[ScriptedOpenAI]:
    server = ScriptedOpenAI().start()
    yield server
    server.stop()


def _author(server: ScriptedOpenAI) -> LLMAnalyzer:
    s = LLMSettings(OPENAI_BASE_URL=server.url, OPENAI_MODEL="scripted")
    return LLMAnalyzer(OpenAICompatClient(s, backoff=0.01), s)


def test_history_lists_every_version_newest_first(store: SqlPromptStore) -> None:
    generator = PromptGenerator(store)
    library = store.get("banking", "card_block")
    assert library is not None
    first = generator.save("banking", "card_block", PromptEdit.model_validate(EDIT))
    second = generator.save("banking", "card_block", PromptEdit.model_validate(
        {**EDIT, "prompt": "Second wording.", "examples": []}))
    assert (first.version, first.source, second.version) == (2, "edited", 3)

    history = store.history("banking", "card_block")
    assert [(s.version, s.source) for s in history] == [(3, "edited"), (2, "edited"),
                                                       (1, "library")]
    assert history[0] == second and history[1] == first and history[2] == library
    assert history[1].prompt == "Extract the card details."
    assert [f.name for f in history[1].fields] == ["customer_name", "card_last_four"]
    assert history[1].examples == ["please block my card"] and history[0].examples == []
    # The latest version is what the next call gets; other pairs are untouched.
    assert generator.validate_and_generate("banking", "card_block") == second
    assert [s.version for s in store.history("banking", "fraud_report")] == [1]
    assert store.history("banking", "mortgage") == []
    assert store.history("card_block", "banking") == []


def test_approving_a_generated_prompt_makes_it_the_one_in_use(
    store: SqlPromptStore, openai: ScriptedOpenAI
) -> None:
    generator = PromptGenerator(store, _author(openai))
    openai.script(Step(content=json.dumps(LOST_BAG)))
    generated = generator.validate_and_generate("aviation", "lost_luggage")
    assert generated is not None and generated.source == "generated"
    generator.wait_saved()

    approved = generator.save("aviation", "lost_luggage", PromptEdit.of(generated))
    assert (approved.version, approved.source) == (2, "approved")
    assert approved.model_dump(exclude={"version", "source"}) == generated.model_dump(
        exclude={"version", "source"})
    assert [(s.version, s.source) for s in store.history("aviation", "lost_luggage")] == [
        (2, "approved"), (1, "generated")]
    assert generator.validate_and_generate("aviation", "lost_luggage") == approved

    edited = generator.save("aviation", "lost_luggage", PromptEdit.model_validate(
        {**LOST_BAG, "prompt": "Ask for the bag tag first.", "examples": []}))
    assert generator.validate_and_generate("aviation", "lost_luggage") == edited
    assert len(openai.received) == 1  # generated once; reviews never ask the LLM again


def test_two_replicas_generating_the_same_new_pair_store_one_version(
        store: SqlPromptStore) -> None:
    """Each replica's generator has its own in-process lock, so both generate; the store keeps
    the first and hands it to the second, also when both save at the same moment."""
    def generated(prompt: str) -> CategorySpec:
        return CategorySpec.model_validate(
            {**LOST_BAG, "prompt": prompt, "domain": "aviation", "category": "lost_luggage",
             "source": "generated"})

    barrier = threading.Barrier(2)
    saved: list[CategorySpec] = []

    def replica(prompt: str) -> None:
        barrier.wait()
        saved.append(store.save(generated(prompt)))

    threads = [threading.Thread(target=replica, args=(p,)) for p in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(saved) == 2 and saved[0] == saved[1]
    assert [(s.version, s.source) for s in store.history("aviation", "lost_luggage")] == [
        (1, "generated")]
    # A person's approval still adds a version.
    assert store.save(saved[0].model_copy(update={"source": "approved"})).version == 2


def test_an_edit_never_creates_a_pair(store: SqlPromptStore) -> None:
    generator = PromptGenerator(store)
    with pytest.raises(NotFoundError, match="aviation/lost_luggage"):
        generator.save("aviation", "lost_luggage", PromptEdit.model_validate(EDIT))
    assert store.history("aviation", "lost_luggage") == []
    assert store.get("aviation", "lost_luggage") is None


def test_local_prompt_stage(store: SqlPromptStore) -> None:
    stage = LocalPrompts(PromptGenerator(store))

    async def go() -> tuple[list[CategorySpec], CategorySpec, list[CategorySpec]]:
        saved = await stage.save("banking", "card_block", PromptEdit.model_validate(EDIT))
        return await stage.all(), saved, await stage.history("banking", "card_block")

    every, saved, history = anyio.run(go)
    assert len(every) == 15 and saved in every
    assert [s.version for s in history] == [2, 1]
    assert anyio.run(stage.history, "banking", "mortgage") == []
    with pytest.raises(NotFoundError):
        anyio.run(stage.save, "banking", "mortgage", PromptEdit.model_validate(EDIT))


@pytest.fixture
def service(tmp_path: Path, database_url: str | None) -> Iterator[TestClient]:
    settings = make_settings(tmp_path / "data", database_url,
                             services=ServiceSettings(SERVICE_TOKEN=TOKEN))
    with TestClient(create_service_app(settings, "prompt"), headers=AUTH) as client:
        yield client


def test_versions_endpoint(service: TestClient) -> None:
    r = service.get("/prompts/banking/card_block/versions")
    assert r.status_code == 200, r.text
    assert [(v["version"], v["source"]) for v in r.json()] == [(1, "library")]
    r = service.get("/prompts/banking/mortgage/versions")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found" and "banking/mortgage" in r.json()["detail"]
    assert service.get("/prompts/banking/card_block/versions",
                       headers={"X-Service-Token": "wrong"}).status_code == 401


def test_save_endpoint_adds_a_version(service: TestClient) -> None:
    r = service.post("/prompts/banking/card_block", json=EDIT)
    assert r.status_code == 201, r.text
    saved = CategorySpec.model_validate(r.json())
    assert (saved.version, saved.source, saved.prompt) == (2, "edited", EDIT["prompt"])
    r = service.post("/prompts/banking/card_block", json={**EDIT, "source": "approved"})
    assert (r.status_code, r.json()["version"], r.json()["source"]) == (201, 3, "approved")
    versions = service.get("/prompts/banking/card_block/versions").json()
    assert [v["version"] for v in versions] == [3, 2, 1]
    # The seed's endpoints serve the new version.
    fetched = service.get("/fetch-prompt", params={"domain": "banking", "category": "card_block"})
    assert fetched.json()["custom_prompt"] == EDIT["prompt"]
    latest = {(s["domain"], s["category"]): s for s in service.get("/prompts").json()}
    assert latest[("banking", "card_block")]["version"] == 3


@pytest.mark.parametrize(("change", "says"), [
    ({"prompt": "   "}, "body.prompt: String should have at least 1 character"),
    ({"fields": []}, "body.fields: List should have at least 1 item"),
    ({"fields": [{"name": "a"}, {"name": "a"}]}, "field name 'a' appears twice"),
    ({"fields": [{"name": "Card Number"}]}, "field name 'Card Number' is not usable"),
    ({"fields": [{"name": "model_dump"}]}, "field name 'model_dump' is reserved"),
    ({"source": "generated"}, "body.source: Input should be 'edited' or 'approved'"),
    ({"feilds": []}, "body.feilds: Extra inputs are not permitted"),
    ({"prompt": None}, "body.prompt: Input should be a valid string"),
])
def test_invalid_edits_are_refused_and_store_nothing(
    service: TestClient, change: dict[str, Any], says: str
) -> None:
    r = service.post("/prompts/banking/card_block", json={**EDIT, **change})
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_request"
    assert says in r.json()["detail"]
    assert len(service.get("/prompts/banking/card_block/versions").json()) == 1


def test_saving_an_unknown_pair_is_404_and_creates_nothing(service: TestClient) -> None:
    r = service.post("/prompts/aviation/lost_luggage", json=EDIT)
    assert r.status_code == 404
    assert r.json()["error"] == "not_found" and "aviation/lost_luggage" in r.json()["detail"]
    assert service.get("/prompts/aviation/lost_luggage/versions").status_code == 404
    assert len(service.get("/prompts").json()) == 15
