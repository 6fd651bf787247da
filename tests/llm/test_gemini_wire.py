"""Gemini provider WIRE-FORMAT tests: there is no network here, so the official google-genai SDK
is pointed (GEMINI_BASE_URL, its base-URL option) at a local server that speaks Gemini's REST
wire format (tests/fakes/gemini_server.py). They check what the SDK really sends (responseSchema
in the shape Gemini accepts, maxOutputTokens, systemInstruction, the API key) and how the client
handles what comes back: usageMetadata, MAX_TOKENS, 429 with Retry-After, 5xx, timeouts, 4xx.
They do not check Gemini's judgement. The schema converter also has a plain unit test."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from google.genai import types
from pydantic import BaseModel

from audiohub.config import LLMSettings
from audiohub.domain import TokenCount
from audiohub.errors import ConfigurationError, LLMUnavailableError
from audiohub.llm.base import LLMRequest
from audiohub.llm.gemini import GeminiClient, gemini_schema
from audiohub.llm.schemas import ClassificationAnswer, combined_model
from audiohub.llm.structured import ask
from audiohub.prompts.library import library_spec
from tests.fakes.gemini_server import GeminiServer, Reply, answer, schema_problems

VALID = {"domain": "banking", "category": "card_block", "confidence": 0.9}
MODEL = "gemini-2.0-flash"


def client(server: GeminiServer, timeout: float = 5, attempts: int = 3,
           **kw: Any) -> GeminiClient:
    settings = LLMSettings(GEMINI_API_KEY="test-key", GEMINI_BASE_URL=server.url,
                           GEMINI_MODEL=MODEL, GEMINI_TIMEOUT=timeout, LLM_ATTEMPTS=attempts)
    return GeminiClient(settings, backoff_seconds=kw.pop("backoff_seconds", 0.05), **kw)


def request(schema: type[BaseModel] = ClassificationAnswer, max_tokens: int = 200) -> LLMRequest:
    return LLMRequest(
        system="Classify the call. Answer with one JSON object.",
        user="Agent: I have blocked your card. Caller: thanks.",
        schema=schema.model_json_schema(), schema_name=schema.__name__, max_tokens=max_tokens)


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


# --- the schema converter (unit test, no server) -------------------------------------------

def test_gemini_schema_converts_pydantic_json_schema_to_gemini_openapi_subset() -> None:
    spec = library_spec("healthcare", "appointment_scheduling")
    converted = gemini_schema(combined_model(spec).model_json_schema())
    nodes = list(_walk(converted))
    banned = {"$ref", "$defs", "additionalProperties", "title", "default", "const", "anyOf"}
    assert not [k for n in nodes for k in n if k in banned]
    assert all(n["type"] in {"OBJECT", "STRING", "NUMBER", "ARRAY"} for n in nodes if "type" in n)
    # $refs inlined, properties in the schema's order, required kept
    assert converted["propertyOrdering"] == ["fields", "general"]
    fields, general = converted["properties"]["fields"], converted["properties"]["general"]
    assert fields["type"] == "OBJECT" and "patient_name" in fields["properties"]
    # `str | None` (anyOf [string, null]) -> nullable string, bounds and description kept
    name = fields["properties"]["patient_name"]
    assert name["type"] == "STRING" and name["nullable"] is True
    assert name["maxLength"] == 200 and name["description"]
    assert general["properties"]["sentiment_label"] == {
        "type": "STRING", "enum": ["positive", "neutral", "negative"]}
    assert general["properties"]["sentiment_score"]["minimum"] == -1
    assert general["properties"]["key_topics"]["items"] == {"type": "STRING", "maxLength": 80}
    assert general["required"] == list(general["properties"])
    # what Gemini's Schema message holds: the SDK's own model and the fake's checks take it
    types.Schema.model_validate(converted)
    assert schema_problems(converted) == []


def test_gemini_schema_handles_type_lists_const_and_recursion() -> None:
    spec = library_spec("banking", "card_block")
    converted = gemini_schema(spec.json_schema())  # "type": ["string", "null"]
    some = next(iter(converted["properties"].values()))
    assert some["type"] == "STRING" and some["nullable"] is True and "maxLength" in some
    assert gemini_schema({"const": "x"}) == {"type": "STRING", "enum": ["x"]}
    assert gemini_schema({"type": "string", "format": "uri"}) == {"type": "STRING"}
    recursive = {"$defs": {"N": {"type": "object", "properties": {"n": {"$ref": "#/$defs/N"}}}},
                 "$ref": "#/$defs/N"}
    with pytest.raises(ValueError, match="recursive"):
        gemini_schema(recursive)


# --- wire format -------------------------------------------------------------------------

def test_wire_structured_answer_is_validated_through_ask(gemini: GeminiServer) -> None:
    gemini.script = [answer(VALID, prompt_tokens=321, output_tokens=17)]
    result = ask(client(gemini), request(), ClassificationAnswer)
    assert result.value == ClassificationAnswer(**VALID)
    assert result.usage == TokenCount(input_tokens=321, output_tokens=17, total_tokens=338)
    (sent,) = gemini.generate_requests()
    assert sent.path == f"/v1beta/models/{MODEL}:generateContent"
    assert sent.headers["x-goog-api-key"] == "test-key"
    config = sent.body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["maxOutputTokens"] == 200
    assert sent.body["systemInstruction"]["parts"][0]["text"].startswith("Classify the call")
    assert sent.body["contents"][0]["parts"] == [{"text": request().user}]
    assert config["responseSchema"]["properties"]["confidence"] == {
        "type": "NUMBER", "minimum": 0.0, "maximum": 1.0}


def test_wire_response_schema_of_the_combined_analysis_is_accepted(
        gemini: GeminiServer) -> None:
    spec = library_spec("healthcare", "appointment_scheduling")
    model = combined_model(spec)
    general = {"summary": "Booking.", "sentiment_label": "neutral", "sentiment_score": 0.1,
               "call_outcome": "resolved", "key_topics": ["appointment"], "action_items": [],
               "pii_detected": ["person_name"]}
    gemini.script = [answer({"fields": {"patient_name": "Maria Lopez"}, "general": general})]
    result = ask(client(gemini), request(model, 900), model)
    assert result.value is not None and result.problems == []
    sent = gemini.generate_requests()[0].body["generationConfig"]["responseSchema"]
    # The fake rejects what Gemini rejects (unknown keywords, list-valued type): it took this.
    assert schema_problems(sent) == []
    assert sent["propertyOrdering"] == ["fields", "general"]
    nested = sent["properties"]["fields"]["properties"]["patient_name"]
    assert nested["nullable"] is True and nested["type"] == "STRING"
    assert not any(k in n for n in _walk(sent) for k in ("additionalProperties", "$ref"))


@pytest.mark.parametrize("reply", [
    Reply(status=429, retry_after="1"),
    Reply(status=429, retry_delay="1.2s"),  # google.rpc.RetryInfo in the error's details
], ids=["retry-after-header", "retry-info-delay"])
def test_wire_429_is_retried_after_its_retry_after(gemini: GeminiServer, reply: Reply) -> None:
    gemini.script = [reply, answer(VALID)]
    result = ask(client(gemini, backoff_seconds=0.01), request(), ClassificationAnswer)
    assert result.value is not None
    first, second = gemini.generate_requests()
    assert second.at - first.at >= 0.95  # the server's wait, not the 0.01 s backoff


def test_wire_500_then_success(gemini: GeminiServer) -> None:
    gemini.script = [Reply(status=500), Reply(status=503), answer(VALID)]
    assert ask(client(gemini), request(), ClassificationAnswer).value is not None
    assert len(gemini.generate_requests()) == 3


def test_wire_timeout_then_success(gemini: GeminiServer) -> None:
    gemini.script = [Reply(text=json.dumps(VALID), delay=2.0), answer(VALID)]
    started = time.monotonic()
    result = ask(client(gemini, timeout=0.5), request(), ClassificationAnswer)
    assert result.value is not None
    assert len(gemini.generate_requests()) == 2
    assert time.monotonic() - started < 2.0  # the slow answer was not waited for


def test_wire_500_forever_ends_in_llm_unavailable_naming_the_model(
        gemini: GeminiServer) -> None:
    gemini.default = Reply(status=500)
    with pytest.raises(LLMUnavailableError) as caught:
        client(gemini, attempts=3).complete(request())
    assert len(gemini.generate_requests()) == 3
    message = caught.value.detail
    assert MODEL in message and "after 3 attempts" in message and "500" in message
    assert "GEMINI_BASE_URL" in message and "GEMINI_TIMEOUT" in message


@pytest.mark.parametrize(("status", "check"), [(400, "request"), (403, "GEMINI_API_KEY"),
                                               (404, "GEMINI_MODEL")])
def test_wire_other_4xx_are_never_retried(gemini: GeminiServer, status: int,
                                          check: str) -> None:
    gemini.default = Reply(status=status)
    with pytest.raises(LLMUnavailableError, match=check):
        client(gemini).complete(request())
    assert len(gemini.generate_requests()) == 1


def test_wire_max_tokens_truncation_ends_in_a_partial_with_reasons(gemini: GeminiServer) -> None:
    cut = '{"domain": "banking", "category": "card_bl'
    gemini.script = [Reply(text=cut, finish_reason="MAX_TOKENS", output_tokens=50),
                     Reply(text=cut, finish_reason="MAX_TOKENS", output_tokens=50)]
    gemini_client = client(gemini)
    assert gemini_client.complete(request()).truncated is True
    gemini.script = [Reply(text=cut, finish_reason="MAX_TOKENS", output_tokens=50),
                     Reply(text=cut, finish_reason="MAX_TOKENS", output_tokens=50)]
    result = ask(gemini_client, request(), ClassificationAnswer)
    assert result.value is None
    assert result.partial == {"domain": "banking", "category": "card_bl"}
    assert len(result.problems) == 2 and all("max_tokens" in p for p in result.problems)
    assert result.usage.output_tokens == 100
    reask = gemini.generate_requests()[-1].body["contents"][0]["parts"][0]["text"]
    assert "previous answer was not valid" in reask


def test_wire_wrong_types_are_reasked_then_partial(gemini: GeminiServer) -> None:
    wrong = {"domain": "banking", "category": "card_block", "confidence": "very high"}
    gemini.script = [answer(wrong), answer(VALID)]
    assert ask(client(gemini), request(), ClassificationAnswer).value is not None
    gemini.reset()
    gemini.script = [answer(wrong), answer({**wrong, "confidence": [1]})]
    result = ask(client(gemini), request(), ClassificationAnswer)
    assert result.value is None
    assert result.partial == {"domain": "banking", "category": "card_block"}
    assert all("confidence" in p for p in result.problems)


def test_missing_gemini_api_key_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="set GEMINI_API_KEY or choose ANALYZER=local"):
        GeminiClient(LLMSettings(GEMINI_API_KEY=None))


def test_wire_health_names_model_and_server(gemini: GeminiServer) -> None:
    assert client(gemini).health() == f"gemini {MODEL} via {gemini.url}"
