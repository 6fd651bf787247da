"""The OpenAI-compatible provider, against two real HTTP servers: a scripted server speaking
OpenAI's chat-completions wire format (for faults a real model will not produce on demand), and
llama-cpp-python's server running SmolLM2-135M (for the plumbing, schema-valid output, time and
token usage). The tests check the adapter, not the tiny model's judgement."""

from __future__ import annotations

import json
import socket
import time
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from audiohub.config import LLMSettings
from audiohub.domain import TokenCount
from audiohub.errors import LLMUnavailableError
from audiohub.llm.base import LLMReply, LLMRequest
from audiohub.llm.openai_compat import GRAMMAR_MAX_LENGTH, OpenAICompatClient, strict_schema
from audiohub.llm.schemas import (
    ClassificationAnswer,
    GeneralAnalysis,
    GeneratedSpec,
    combined_model,
)
from audiohub.llm.structured import ask
from audiohub.prompts.library import library_spec
from tests.llm.conftest import LLAMA_MODEL, ScriptedOpenAI, Step

VALID = '{"domain": "banking", "category": "card_block", "confidence": 0.9}'


def settings(url: str, **kw: Any) -> LLMSettings:
    base: dict[str, Any] = {"openai_base_url": url, "openai_model": "scripted",
                            "openai_api_key": None, "timeout": 5, "attempts": 3}
    return LLMSettings(**{**base, **kw})


def request(schema: type[BaseModel] = ClassificationAnswer, max_tokens: int = 200,
            user: str = "Agent: I have blocked your card. Caller: thanks.") -> LLMRequest:
    return LLMRequest(
        system="Classify the call. Answer with one JSON object.", user=user,
        schema=schema.model_json_schema(), schema_name=schema.__name__, max_tokens=max_tokens)


def client(url: str, **kw: Any) -> OpenAICompatClient:
    # A short backoff keeps the fault tests fast; Retry-After is still honoured in full.
    return OpenAICompatClient(settings(url, **kw), backoff=0.05)


# --- schema adaptation --------------------------------------------------------------------


def _nodes(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [n for item in node for n in _nodes(item)]
    if not isinstance(node, dict):
        return []
    return [node, *(n for v in node.values() for n in _nodes(v))]


def test_strict_schema_closes_every_object_bounds_every_string_and_inlines_refs() -> None:
    model = combined_model(library_spec("banking", "card_block"))
    schema = strict_schema(model.model_json_schema())
    nodes = _nodes(schema)
    assert "$defs" not in json.dumps(schema) and "$ref" not in json.dumps(schema)
    objects = [n for n in nodes if n.get("type") == "object"]
    assert len(objects) == 3  # the answer, its fields, the general analysis
    for obj in objects:
        assert obj["additionalProperties"] is False
        assert obj["required"] == list(obj["properties"])
    strings = [n for n in nodes if n.get("type") == "string" and "enum" not in n]
    assert strings and all("maxLength" in n for n in strings)
    assert not any("default" in n for n in nodes)
    # Still the same answer: a valid instance of the model validates against it unchanged.
    assert model.model_json_schema()["title"] == schema["title"]


def test_strict_schema_keeps_a_field_named_like_a_keyword() -> None:
    model = create_model("odd", __config__=ConfigDict(extra="forbid"),
                         default=(str | None, Field(default=None, max_length=20)),
                         maxLength=(str, Field(max_length=2000)))
    schema = strict_schema(model.model_json_schema(), max_length=1000)
    assert schema["required"] == ["default", "maxLength"]
    assert "default" not in schema["properties"]["default"]  # the keyword, not the field
    assert schema["properties"]["maxLength"]["maxLength"] == 1000


# --- the request on the wire (scripted OpenAI-wire server) ------------------------------


def test_openai_wire_json_schema_mode_sends_strict_schema_and_max_tokens(
        scripted: ScriptedOpenAI) -> None:
    scripted.script(Step(VALID))
    reply = client(scripted.url).complete(request(max_tokens=77))
    body = scripted.received[0][1]
    assert body["max_tokens"] == 77 and body["temperature"] == 0
    assert body["model"] == "scripted"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "ClassificationAnswer"
    assert fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["additionalProperties"] is False
    assert reply == LLMReply(VALID, TokenCount(input_tokens=50, output_tokens=len(VALID) // 4,
                                               total_tokens=50 + len(VALID) // 4))


def test_openai_wire_json_object_mode_sends_schema_beside_json_object(
        scripted: ScriptedOpenAI) -> None:
    scripted.script(Step(VALID))
    client(scripted.url, openai_schema_mode="json_object").complete(request())
    fmt = scripted.received[0][1]["response_format"]
    assert fmt["type"] == "json_object"
    assert fmt["schema"]["required"] == ["domain", "category", "confidence"]


def test_openai_wire_json_object_mode_caps_string_bounds_for_the_grammar(
        scripted: ScriptedOpenAI) -> None:
    """GeneratedSpec's 1500-char prompt would crash llama.cpp's grammar parser (measured): the
    grammar gets GRAMMAR_MAX_LENGTH; json_schema mode keeps the schema's own bound."""
    client(scripted.url, openai_schema_mode="json_object").complete(request(GeneratedSpec))
    client(scripted.url).complete(request(GeneratedSpec))
    grammar_schema = scripted.received[0][1]["response_format"]["schema"]
    strict = scripted.received[1][1]["response_format"]["json_schema"]["schema"]
    assert grammar_schema["properties"]["prompt"]["maxLength"] == GRAMMAR_MAX_LENGTH
    assert strict["properties"]["prompt"]["maxLength"] == 1500
    assert all(n.get("maxLength", 0) <= GRAMMAR_MAX_LENGTH for n in _nodes(grammar_schema))


def test_openai_wire_health_lists_models(scripted: ScriptedOpenAI) -> None:
    assert client(scripted.url).health() == (
        f"openai: {scripted.url} ok, model scripted listed")


# --- faults: retried to success (scripted OpenAI-wire server) ---------------------------


def test_openai_wire_timeout_then_success(scripted: ScriptedOpenAI) -> None:
    scripted.script(Step(VALID, delay=3), Step(VALID))
    reply = client(scripted.url, timeout=0.5).complete(request())
    assert reply.text == VALID
    assert len(scripted.received) == 2


def test_openai_wire_429_waits_for_retry_after_then_succeeds(scripted: ScriptedOpenAI) -> None:
    scripted.script(Step(status=429, headers={"Retry-After": "1"}), Step(VALID))
    reply = client(scripted.url).complete(request())
    assert reply.text == VALID
    (first, _), (second, _) = scripted.received
    # The backoff is 0.05 s: only the Retry-After header explains a one-second gap.
    assert 0.95 <= second - first < 5


def test_openai_wire_500_then_success(scripted: ScriptedOpenAI) -> None:
    scripted.script(Step(status=500), Step(VALID))
    assert client(scripted.url).complete(request()).text == VALID
    assert len(scripted.received) == 2


# --- faults: given up on, with a message that says what to check ------------------------


def test_openai_wire_500_forever_raises_unavailable_naming_the_server(
        scripted: ScriptedOpenAI) -> None:
    scripted.script(Step(status=500))
    with pytest.raises(LLMUnavailableError) as caught:
        client(scripted.url, attempts=3).complete(request())
    assert len(scripted.received) == 3
    message = caught.value.detail
    assert scripted.url in message and "HTTP 500 after 3 attempts" in message
    assert "OPENAI_MODEL" in message


def test_openai_wire_400_is_not_retried(scripted: ScriptedOpenAI) -> None:
    scripted.script(Step(status=400))
    with pytest.raises(LLMUnavailableError) as caught:
        client(scripted.url).complete(request())
    assert len(scripted.received) == 1
    assert "HTTP 400:" in caught.value.detail
    assert "OPENAI_SCHEMA_MODE=json_object" in caught.value.detail


def test_no_server_listening_raises_unavailable_after_the_attempts() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    llm = client(url, attempts=2)
    with pytest.raises(LLMUnavailableError) as caught:
        llm.complete(request())
    assert url in caught.value.detail and "after 2 attempts" in caught.value.detail
    assert "OPENAI_BASE_URL" in caught.value.detail
    # /health must say unhealthy (503), so health() raises rather than describing the failure.
    with pytest.raises(LLMUnavailableError, match="GET /models failed"):
        llm.health()


# --- bad answers: re-asked once, then partial (scripted OpenAI-wire server) -------------


def test_openai_wire_truncated_json_is_reasked_then_partial(scripted: ScriptedOpenAI) -> None:
    cut = '{"domain": "banking", "category": "card_bl'
    scripted.script(Step(cut, finish_reason="length"))
    result = ask(client(scripted.url), request(), ClassificationAnswer)
    assert result.value is None
    assert len(scripted.received) == 2  # one re-ask, no more
    assert "not valid" in scripted.received[1][1]["messages"][1]["content"]
    assert set(result.partial) <= set(ClassificationAnswer.model_fields)
    assert result.partial["domain"] == "banking"
    assert len(result.problems) == 2
    assert all("max_tokens" in p for p in result.problems)
    assert result.usage.total_tokens == 2 * (50 + len(cut) // 4)


def test_openai_wire_wrong_types_are_reasked_then_partial(scripted: ScriptedOpenAI) -> None:
    wrong = '{"domain": "banking", "category": 7, "confidence": "high", "extra": 1}'
    scripted.script(Step(wrong))
    result = ask(client(scripted.url), request(), ClassificationAnswer)
    assert result.value is None
    assert result.partial == {"domain": "banking"}  # only schema keys, only valid ones
    assert len(scripted.received) == 2
    assert "category" in result.problems[0] and "confidence" in result.problems[0]


def test_openai_wire_wrong_types_then_fixed_after_reask(scripted: ScriptedOpenAI) -> None:
    scripted.script(Step('{"domain": "banking", "category": 7, "confidence": 0.9}'), Step(VALID))
    result = ask(client(scripted.url), request(), ClassificationAnswer)
    assert result.value == ClassificationAnswer.model_validate_json(VALID)
    assert result.problems == []


# --- the real thing: llama-cpp-python's server with SmolLM2-135M ---------------------------

CALL = ("Agent: Thank you for calling First Bank, how can I help? Caller: Hi, this is Maria "
        "Lopez, I lost my debit card this morning, the one ending 4821. Please block it. "
        "Agent: I have blocked the card ending 4821 and ordered a replacement. Caller: Thanks.")
CARD_BLOCK = combined_model(library_spec("banking", "card_block"))
# Generous: the slowest call here takes ~3 s, also with the 2 cores busy with other work.
PER_CALL_SECONDS = 60


class Recording:
    """Wraps a client and keeps every reply, to check what `ask()` adds up and how long each
    call took."""

    provider: ClassVar[str] = "openai"

    def __init__(self, inner: OpenAICompatClient) -> None:
        self.inner = inner
        self.model = inner.model
        self.replies: list[LLMReply] = []
        self.seconds: list[float] = []

    def complete(self, request: LLMRequest) -> LLMReply:
        start = time.monotonic()
        reply = self.inner.complete(request)
        self.seconds.append(time.monotonic() - start)
        self.replies.append(reply)
        return reply

    def health(self) -> str:
        return self.inner.health()


def llama(url: str, mode: str = "json_object", attempts: int = 1) -> OpenAICompatClient:
    return OpenAICompatClient(LLMSettings(
        openai_base_url=url, openai_model=LLAMA_MODEL, openai_api_key=None,
        openai_schema_mode=mode, timeout=120, attempts=attempts))


def llama_request(schema: type[BaseModel], max_tokens: int, system: str) -> LLMRequest:
    return LLMRequest(system=system, user=CALL, schema=schema.model_json_schema(),
                      schema_name=schema.__name__, max_tokens=max_tokens)


def only_numeric_bounds_wrong(schema: type[BaseModel], text: str) -> bool:
    """The grammar llama.cpp builds from the schema enforces keys, types, enums, patterns and
    lengths but not minimum/maximum: anything else wrong is our plumbing's fault."""
    try:
        schema.model_validate_json(text)
    except ValidationError as exc:
        return all(e["type"] in ("less_than_equal", "greater_than_equal") for e in exc.errors())
    return True


def check_usage_and_time(llm: Recording, max_tokens: int) -> None:
    for reply, seconds in zip(llm.replies, llm.seconds, strict=True):
        assert reply.usage.input_tokens > 0 and 0 < reply.usage.output_tokens <= max_tokens
        assert reply.usage.total_tokens == reply.usage.input_tokens + reply.usage.output_tokens
        assert seconds < PER_CALL_SECONDS


def test_llama_server_health_lists_the_model(llama_server: str) -> None:
    assert llama(llama_server).health() == (
        f"openai: {llama_server} ok, model {LLAMA_MODEL} listed")


SYSTEM = "Classify or analyse the call. Answer with one JSON object."


def test_llama_server_json_object_classification_validates(llama_server: str) -> None:
    """Measured (temperature 0, so the same every run): the grammar llama.cpp builds from the
    schema gives a valid ClassificationAnswer on the first call, no re-ask."""
    llm = Recording(llama(llama_server))
    result = ask(llm, llama_request(ClassificationAnswer, 100, SYSTEM), ClassificationAnswer)
    assert isinstance(result.value, ClassificationAnswer)
    assert result.problems == [] and len(llm.replies) == 1
    assert not llm.replies[0].truncated
    check_usage_and_time(llm, 100)
    assert result.usage == llm.replies[0].usage


def test_llama_server_json_object_card_block_is_schema_shaped_then_partial(
        llama_server: str) -> None:
    """Measured: both answers are JSON with exactly the schema's keys, types and bounded
    strings, but SmolLM2-135M writes sentiment_score 100, then -50 after the re-ask (the grammar
    cannot express minimum/maximum), so `ask()` ends in the partial path with that reason and
    every other field kept. Token usage is the sum of both calls."""
    llm = Recording(llama(llama_server))
    result = ask(llm, llama_request(CARD_BLOCK, 700, SYSTEM), CARD_BLOCK)
    assert len(llm.replies) == 2  # the re-ask happened, once
    assert all(only_numeric_bounds_wrong(CARD_BLOCK, r.text) for r in llm.replies)
    assert not any(r.truncated for r in llm.replies)
    check_usage_and_time(llm, 700)
    assert result.usage == llm.replies[0].usage + llm.replies[1].usage
    assert result.value is None
    assert len(result.problems) == 2
    assert all("general.sentiment_score" in p for p in result.problems)
    assert set(result.partial) == {"fields", "general"}
    assert set(result.partial["fields"]) == {"customer_name", "card_last_four", "reason"}
    assert set(result.partial["general"]) == set(GeneralAnalysis.model_fields) - {
        "sentiment_score"}


def test_llama_server_survives_a_schema_with_long_strings(llama_server: str) -> None:
    """Regression: GeneratedSpec (a 1500-char prompt field) sent as is made llama-cpp-python's
    grammar parser fail and the server segfault; capped, it answers and stays up."""
    llm = Recording(llama(llama_server))
    result = ask(llm, llama_request(GeneratedSpec, 200, "Write a prompt for this call type."),
                 GeneratedSpec)
    assert result.value is not None or result.problems
    check_usage_and_time(llm, 200)
    assert llama(llama_server).health().endswith(f"model {LLAMA_MODEL} listed")


def test_llama_server_truncated_answer_is_reasked_then_partial(llama_server: str) -> None:
    """max_tokens=8 cuts every answer: `truncated` -> re-ask -> partial, reason: max_tokens."""
    llm = Recording(llama(llama_server))
    result = ask(llm, llama_request(ClassificationAnswer, 8, "Classify. JSON."),
                 ClassificationAnswer)
    assert [r.truncated for r in llm.replies] == [True, True]
    assert [r.usage.output_tokens for r in llm.replies] == [8, 8]
    check_usage_and_time(llm, 8)
    assert result.value is None
    assert len(result.problems) == 2 and all("max_tokens" in p for p in result.problems)
    assert set(result.partial) <= {"domain", "category", "confidence"}
    assert result.usage == llm.replies[0].usage + llm.replies[1].usage


def test_llama_server_rejects_json_schema_mode_with_a_hint(llama_server: str) -> None:
    """Measured: llama-cpp-python's server answers response_format json_schema with HTTP 500 (a
    pydantic literal_error: 'text' or 'json_object'); the client retries it as a 5xx, then
    says which setting fixes it."""
    llm = llama(llama_server, mode="json_schema", attempts=2)
    with pytest.raises(LLMUnavailableError) as caught:
        llm.complete(llama_request(ClassificationAnswer, 50, "Classify. JSON."))
    message = caught.value.detail
    assert "HTTP 500 after 2 attempts" in message and "response_format" in message
    assert "OPENAI_SCHEMA_MODE=json_object" in message
