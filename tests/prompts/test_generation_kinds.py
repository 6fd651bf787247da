"""An LLM-written spec's fields get kinds: the LLM's own when it is one of ours and fits, else a
guess from the name and description marked `kind_inferred` for the reviewer; its other hints
(said_by, cues, choices) are kept where valid and dropped where not, never failing the field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from audiohub.config import AnalyzerSettings, LLMSettings
from audiohub.prompts.generation import written_field
from audiohub.services import create_service_app
from tests.conftest import make_settings
from tests.llm.conftest import ScriptedOpenAI, Step


def test_a_valid_kind_and_hints_are_kept() -> None:
    f = written_field({"name": "seat", "description": "where they sit", "kind": "choice",
                       "choices": ["aisle", "window"], "said_by": "customer",
                       "cues": ["which seat"]})
    assert (f.kind, f.kind_inferred, f.said_by, f.cues) == (
        "choice", False, "customer", ["which seat"])
    assert [c.value for c in f.choices] == ["aisle", "window"]


@pytest.mark.parametrize("kind", [None, "", "colour", "choice", 7])
def test_a_missing_or_unusable_kind_is_guessed_and_marked(kind: object) -> None:
    # "choice" without its choices is no usable kind either.
    f = written_field({"name": "pickup_date", "description": "when it is collected",
                       "kind": kind})
    assert (f.kind, f.kind_inferred) == ("date", True)


def test_a_bad_hint_is_dropped_and_the_rest_kept() -> None:
    f = written_field({"name": "caller_name", "description": "who calls", "kind": "person",
                       "said_by": "the agent", "cues": ["my name is", "x" * 200]})
    assert (f.kind, f.kind_inferred, f.said_by, f.cues) == ("person", False, "either", [])
    g = written_field({"name": "seat", "description": "where", "kind": "choice",
                       "choices": ["aisle"], "said_by": "nobody"})
    assert (g.kind, g.said_by, [c.value for c in g.choices]) == ("choice", "either", ["aisle"])


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedOpenAI]:
    server = ScriptedOpenAI().start()
    yield server
    server.stop()


def test_a_generated_spec_without_kinds_is_stored_with_guesses(tmp_path: Path,
                                                              llm: ScriptedOpenAI) -> None:
    llm.script(Step(content=json.dumps({
        "description": "A passenger reports a bag that did not arrive.",
        "prompt": "Extract the passenger's details and the bag's tag.",
        "fields": [{"name": "passenger_name", "description": "who lost the bag"},
                   {"name": "flight_date", "description": "when they flew"}]})))
    settings = make_settings(tmp_path / "data", analysis=AnalyzerSettings(ANALYZER="openai"),
                             llm=LLMSettings(OPENAI_BASE_URL=llm.url, OPENAI_MODEL="scripted"))
    with TestClient(create_service_app(settings, "prompt")) as client:
        body = client.post("/validate-and-generate",
                           json={"domain": "aviation", "category": "lost_luggage"}).json()
        client.app.state.generator.wait_saved()  # type: ignore[attr-defined]
        stored = client.get("/prompts/aviation/lost_luggage/versions").json()
    for spec in (body["spec"], stored[0]):
        assert [(f["name"], f["kind"], f["kind_inferred"]) for f in spec["fields"]] == [
            ("passenger_name", "person", True), ("flight_date", "date", True)]
