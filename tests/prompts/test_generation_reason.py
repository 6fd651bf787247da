"""Prompt generation says why: when no usable prompt is written for a new pair, the prompt
service's `/validate-and-generate` answers `custom_prompt: null` with `reason_code` and `reason`,
a warning in the log says the same, and the call is analysed with the general fallback's fields.

The LLM is a scripted server on loopback that speaks OpenAI's chat-completions wire format
(tests/llm/conftest.py's ScriptedOpenAI): a fake of a cloud API at its HTTP boundary, the one
kind of fake the suite allows, used here because the failures must be deterministic (an answer
that is not JSON, twice; an answer that comes too late). Everything of ours runs for real: the
prompt service app, the OpenAI SDK client, the store on SQLite, the gateway's pipeline."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audiohub.config import AnalyzerSettings, LLMSettings
from audiohub.gateway.app import create_app
from audiohub.prompts.library import fallback_spec
from audiohub.services import create_service_app
from tests.conftest import AUDIO, make_settings
from tests.keys import authorize
from tests.llm.conftest import ScriptedOpenAI, Step
from tests.processes import free_port

PAIR = {"domain": "aviation", "category": "lost_luggage"}
NOT_JSON = Step(content="Sure! Here is a prompt for lost luggage: ask for the bag tag.")


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedOpenAI]:
    server = ScriptedOpenAI().start()
    yield server
    server.stop()


def prompt_service(tmp_path: Path, base_url: str, **llm: Any) -> TestClient:
    settings = make_settings(
        tmp_path / "data", analysis=AnalyzerSettings(ANALYZER="openai"),
        llm=LLMSettings(OPENAI_BASE_URL=base_url, OPENAI_MODEL="scripted", **llm))
    return TestClient(create_service_app(settings, "prompt"))


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_invalid_json_after_the_re_ask_is_said_in_the_answer_and_the_log(
    tmp_path: Path, llm: ScriptedOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    llm.script(NOT_JSON)
    with prompt_service(tmp_path, llm.url) as client, caplog.at_level(logging.INFO, "audiohub"):
        r = client.post("/validate-and-generate", json=PAIR)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["custom_prompt"], body["spec"], body["generated"]) == (None, None, False)
    assert body["reason_code"] == "invalid_output"
    assert "even re-asked" in body["reason"] and "Invalid JSON" in body["reason"], body
    assert len(llm.received) == 2  # the first answer and the re-ask
    (warning,) = [w for w in warnings_of(caplog) if "aviation/lost_luggage" in w]
    assert "invalid_output" in warning and "general fallback" in warning


def test_an_llm_that_does_not_answer_in_time_is_a_timeout(
    tmp_path: Path, llm: ScriptedOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    llm.script(Step(delay=3.0))
    with prompt_service(tmp_path, llm.url, LLM_TIMEOUT=0.5, LLM_ATTEMPTS=1) as client, \
            caplog.at_level(logging.INFO, "audiohub"):
        r = client.post("/validate-and-generate", json=PAIR)
    assert r.status_code == 200, r.text  # the pair falls back; the call is not failed here
    body = r.json()
    assert (body["custom_prompt"], body["reason_code"]) == (None, "llm_timeout")
    assert "did not answer" in body["reason"], body
    assert any("llm_timeout" in w for w in warnings_of(caplog))


def test_an_llm_that_is_not_there_is_unavailable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens: connection refused
    with prompt_service(tmp_path, closed, LLM_ATTEMPTS=1) as client, \
            caplog.at_level(logging.INFO, "audiohub"):
        body = client.post("/validate-and-generate", json=PAIR).json()
    assert (body["custom_prompt"], body["reason_code"]) == (None, "llm_unavailable")
    assert closed in body["reason"]
    assert any("llm_unavailable" in w for w in warnings_of(caplog))


def test_the_local_analyzer_says_it_writes_no_prompts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_service_app(make_settings(tmp_path / "data"), "prompt")
    with TestClient(app) as client, caplog.at_level(logging.INFO, "audiohub"):
        body = client.post("/validate-and-generate", json=PAIR).json()
        known = client.post("/validate-and-generate",
                            json={"domain": "banking", "category": "card_block"}).json()
    assert (body["custom_prompt"], body["reason_code"]) == (None, "local_analyzer")
    assert "ANALYZER=openai" in body["reason"]
    # Expected with ANALYZER=local, so said at INFO, not as a warning.
    assert not warnings_of(caplog)
    assert any("local_analyzer" in r.getMessage() for r in caplog.records)
    assert known["custom_prompt"] and (known["reason_code"], known["reason"]) == (None, None)


def test_a_good_answer_has_no_reason(tmp_path: Path, llm: ScriptedOpenAI) -> None:
    llm.script(Step(content=json.dumps({
        "description": "A passenger reports a bag that did not arrive.",
        "prompt": "Extract the passenger's details and the bag's tag.",
        "fields": [{"name": "passenger_name", "description": "who lost the bag"},
                   {"name": "bag_tag", "description": "the baggage tag number"}]})))
    with prompt_service(tmp_path, llm.url) as client:
        body = client.post("/validate-and-generate", json=PAIR).json()
    assert body["generated"] is True and body["custom_prompt"]
    assert (body["reason_code"], body["reason"]) == (None, None)


def test_a_call_of_a_pair_without_a_written_prompt_uses_the_general_fallback(
    tmp_path: Path, llm: ScriptedOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    """Through the gateway: the LLM names a new pair, writes no valid prompt for it (twice not
    JSON), and the call is analysed with the fallback's fields and stored all the same."""
    topic = fallback_spec().fields[0].name
    llm.script(
        Step(content=json.dumps({**PAIR, "confidence": 0.8})),  # stage 1: a pair nobody has
        NOT_JSON, NOT_JSON,                                    # no prompt, even re-asked
        Step(content=json.dumps({"fields": {topic: "a lost bag"}, "general": {
            "summary": "A bag was lost.", "sentiment_label": "neutral", "sentiment_score": 0.0,
            "call_outcome": "unresolved", "key_topics": ["bag"], "action_items": [],
            "pii_detected": []}})))
    settings = make_settings(
        tmp_path / "data", analysis=AnalyzerSettings(ANALYZER="openai"),
        llm=LLMSettings(OPENAI_BASE_URL=llm.url, OPENAI_MODEL="scripted"))
    with TestClient(create_app(settings)) as client, caplog.at_level(logging.INFO, "audiohub"), \
            (AUDIO / "banking_card_block_16k.wav").open("rb") as f:
        authorize(client, "uploader")
        r = client.post("/api/transcribe/", files={"file": ("call.wav", f)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["domain"], body["category"]) == (PAIR["domain"], PAIR["category"])
    assert list(body["domain_specific_data"]) == [topic]  # the general fallback's schema
    assert any("invalid_output" in w for w in warnings_of(caplog))
    assert len(llm.received) == 4
