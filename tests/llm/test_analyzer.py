"""The LLM analyzer (ANALYZER=openai) end to end against a scripted server that speaks OpenAI's
chat-completions wire format (a cloud API cannot be reached from here; the real local model is
exercised in test_openai_compat.py and test_pipeline_llama.py): schema-only fields grounded in the
transcript, partial results with reasons, chunked transcripts merged, PII redacted before the
request and restored after, unknown pairs given a generated prompt that is stored and reused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from audiohub.config import AnalyzerSettings, LLMSettings
from audiohub.domain import Classification
from audiohub.extraction.backends.llm import LLMAnalyzer
from audiohub.extraction.service import ExtractionService
from audiohub.gateway.app import create_app
from audiohub.llm.openai_compat import OpenAICompatClient
from audiohub.persistence.db import Database, migrate
from audiohub.prompts.generation import PromptGenerator
from audiohub.prompts.library import library_spec, load_library
from audiohub.prompts.service import SqlPromptStore
from tests.conftest import AUDIO, make_settings
from tests.extraction.transcripts import make_transcript
from tests.keys import authorize
from tests.llm.conftest import ScriptedOpenAI, Step

CARD = library_spec("banking", "card_block")
TURNS = ["Metro Bank, how can I help you?",
         "Hi, this is Long Carka, my credit card was stolen. Can you block it?",
         "Of course, can you give me the last four digits?",
         "Four five six seven.", "The card is blocked."]
GENERAL = {"summary": "A stolen card was blocked.", "sentiment_label": "neutral",
           "sentiment_score": 0.1, "call_outcome": "resolved", "key_topics": ["stolen card"],
           "action_items": [], "pii_detected": ["person_name", "card_number"]}


def analyzer(server: ScriptedOpenAI, **settings: Any) -> LLMAnalyzer:
    s = LLMSettings(OPENAI_BASE_URL=server.url, OPENAI_MODEL="scripted", **settings)
    return LLMAnalyzer(OpenAICompatClient(s, backoff=0.01), s)


def answer(fields: dict[str, Any], general: dict[str, Any] | None = None) -> Step:
    return Step(content=json.dumps({"fields": fields, "general": general or GENERAL}))


def user_text(body: dict[str, Any]) -> str:
    text: str = body["messages"][1]["content"]
    return text


def test_fields_are_the_schema_s_grounded_in_the_transcript(scripted: ScriptedOpenAI) -> None:
    scripted.script(answer({"customer_name": "Long Carka", "card_last_four": "Four five six seven",
                            "reason": "my credit card was stolen"}))
    t = make_transcript(TURNS)
    c = Classification(domain="banking", category="card_block", score=0.9, margin=0.9)
    result = ExtractionService(analyzer(scripted)).extract(t, c, CARD)
    assert result.domain_specific_data == {"customer_name": "Long Carka",
                                           "card_last_four": "Four five six seven",
                                           "reason": "my credit card was stolen"}
    for name, ev in result.evidence.items():
        assert ev.grounded and t.text[ev.char_start:ev.char_end] == ev.text, name
        assert ev.start_s is not None
    m = result.general_metrics
    assert (m.summary, m.call_outcome, m.partial) == ("A stolen card was blocked.", "resolved",
                                                      False)
    assert m.talk_time_seconds and m.words_per_minute  # from the word timings, not the model
    assert result.tokens.input_tokens == 50 and result.tokens.output_tokens > 0
    sent = scripted.received[0][1]
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["max_tokens"] == 1024


def test_a_value_not_in_the_transcript_is_flagged_not_presented(scripted: ScriptedOpenAI) -> None:
    scripted.script(answer({"customer_name": "John Smith", "card_last_four": None,
                            "reason": None}))
    result = ExtractionService(analyzer(scripted)).extract(
        make_transcript(TURNS), Classification(domain="banking", category="card_block"), CARD)
    assert result.evidence["customer_name"].grounded is False


def test_invalid_twice_gives_a_partial_result_with_reasons(scripted: ScriptedOpenAI) -> None:
    broken = Step(content=json.dumps({"fields": {"customer_name": "Long Carka",
                                                 "card_last_four": 4567, "pin": "0000"},
                                      "general": {"summary": "Card blocked."}}))
    scripted.script(broken, Step(content='{"fields": {"customer_name": "Long Ca',
                                 finish_reason="length"))
    result = analyzer(scripted).extract(make_transcript(TURNS),
                                        Classification(domain="banking", category="card_block"),
                                        CARD)
    assert len(scripted.received) == 2  # one re-ask, carrying the validation error
    assert "not valid" in user_text(scripted.received[1][1])
    assert result.domain_specific_data == {"customer_name": "Long Carka",
                                           "card_last_four": None, "reason": None}
    m = result.general_metrics
    assert m.partial is True and m.summary == "Card blocked."
    reasons = " ".join(m.partial_reasons)
    assert "card_last_four" in reasons and "max_tokens" in reasons
    assert "general analysis lacks" in reasons
    assert result.tokens.input_tokens == 100  # both answers counted


def test_long_transcripts_are_chunked_and_fields_merged(scripted: ScriptedOpenAI) -> None:
    filler = ["We value your call and will be with you shortly, thank you for waiting."] * 14
    t = make_transcript([*TURNS[:2], *filler, *TURNS[2:]])
    scripted.script(answer({"customer_name": "Long Carka", "card_last_four": None,
                            "reason": None}),
                    answer({"customer_name": "Someone Else", "card_last_four": None,
                            "reason": None}),
                    answer({"customer_name": None, "card_last_four": "Four five six seven",
                            "reason": None}, {**GENERAL, "sentiment_score": 0.5}))
    result = analyzer(scripted, LLM_CHUNK_CHARS=500).extract(
        t, Classification(domain="banking", category="card_block"), CARD)
    parts = [user_text(body) for _, body in scripted.received]
    assert len(parts) == 3 and "(part 1 of 3)" in parts[0] and "(part 3 of 3)" in parts[2]
    # The first part that says a value wins; a later one never overwrites it.
    assert result.domain_specific_data["customer_name"] == "Long Carka"
    assert result.domain_specific_data["card_last_four"] == "Four five six seven"
    assert 0.1 < result.general_metrics.sentiment.score < 0.5


def test_pii_is_redacted_before_the_request_and_restored_after(scripted: ScriptedOpenAI) -> None:
    scripted.script(answer({"customer_name": "[PERSON_1]", "card_last_four": "[NUMBER_1]",
                            "reason": "my credit card was stolen"},
                           {**GENERAL, "summary": "[PERSON_1] had a card stolen."}))
    a = analyzer(scripted, REDACT_PII_BEFORE_LLM=True)
    result = ExtractionService(a).extract(
        make_transcript(TURNS), Classification(domain="banking", category="card_block"), CARD)
    sent = user_text(scripted.received[0][1])
    assert "Long Carka" not in sent and "Four five six seven" not in sent
    assert "[PERSON_1]" in sent and "[NUMBER_1]" in sent
    assert result.domain_specific_data["customer_name"] == "Long Carka"
    assert result.domain_specific_data["card_last_four"] == "Four five six seven"
    assert result.evidence["card_last_four"].grounded
    assert result.general_metrics.summary == "Long Carka had a card stolen."


def test_classification_known_new_and_unusable_answers(scripted: ScriptedOpenAI) -> None:
    t = make_transcript(TURNS)
    a = analyzer(scripted)
    scripted.script(Step(content='{"domain": "banking", "category": "card_block", '
                                 '"confidence": 0.92}'))
    c = a.classify(t, load_library())
    assert (c.domain, c.category, c.score) == ("banking", "card_block", 0.92)
    assert c.tokens.total_tokens > 0
    assert "banking / card_block" in user_text(scripted.received[0][1])
    scripted.script(Step(content='{"domain": "aviation", "category": "lost_luggage", '
                                 '"confidence": 0.7}'))
    assert a.classify(t, load_library()).category == "lost_luggage"  # an LLM may name a new pair
    scripted.script(Step(content='{"domain": "Banking!", "category": 3}'))
    fallback = a.classify(t, load_library())
    assert (fallback.domain, fallback.category) == ("general", "general_inquiry")
    assert len(scripted.received) == 2 and fallback.tokens.total_tokens > 0


def test_an_unknown_pair_gets_a_generated_prompt_stored_and_reused(
    scripted: ScriptedOpenAI, tmp_path: Path
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'p.db'}")
    migrate(db.engine)
    store = SqlPromptStore(db)
    store.seed()
    generator = PromptGenerator(store, analyzer(scripted))
    scripted.script(Step(content=json.dumps({
        "description": "A passenger reports a bag that did not arrive.",
        "prompt": "Extract the passenger's details and the bag's tag.",
        "fields": [{"name": "passenger_name", "description": "who lost the bag"},
                   {"name": "bag_tag", "description": "the baggage tag number"}]})))
    first = generator.validate_and_generate("aviation", "lost_luggage")
    assert first is not None and first.source == "generated"
    assert [f.name for f in first.fields] == ["passenger_name", "bag_tag"]
    generator.wait_saved()
    stored = store.get("aviation", "lost_luggage")
    assert stored is not None and (stored.version, stored.source) == (1, "generated")
    again = generator.validate_and_generate("aviation", "lost_luggage")
    assert again == stored
    assert len(scripted.received) == 1  # reused from the store, not generated again
    # The library's pairs are never regenerated, and the local analyzer writes nothing.
    assert PromptGenerator(store, None).validate_and_generate("space", "launch") is None
    assert generator.validate_and_generate("banking", "card_block") == store.get(
        "banking", "card_block")
    assert len(scripted.received) == 1


def test_token_usage_per_stage_reaches_the_response_and_the_store(
    scripted: ScriptedOpenAI, tmp_path: Path
) -> None:
    """ANALYZER=openai chosen by settings alone: Whisper transcribes, the LLM classifies
    (stage 1) and analyses (stage 2), and the seed's token_usage block adds them up."""
    scripted.script(
        Step(content='{"domain": "banking", "category": "card_block", "confidence": 0.9}'),
        answer({"customer_name": None, "card_last_four": None, "reason": None}))
    settings = make_settings(
        tmp_path / "data", analysis=AnalyzerSettings(ANALYZER="openai"),
        llm=LLMSettings(OPENAI_BASE_URL=scripted.url, OPENAI_MODEL="scripted"))
    with TestClient(create_app(settings)) as client, \
            (AUDIO / "banking_card_block_16k.wav").open("rb") as f:
        authorize(client, "analyst")  # uploads, reads the call back and the detailed health
        r = client.post("/api/transcribe/", files={"file": ("call.wav", f)})
        assert r.status_code == 200, r.text
        body = r.json()
        usage = body["token_usage"]
        stage1 = usage["stage1_transcription_and_detection"]
        stage2 = usage["stage2_combined_analysis"]
        assert stage1["input_tokens"] == 50 and stage2["input_tokens"] == 50
        assert usage["total"]["total_tokens"] == stage1["total_tokens"] + stage2["total_tokens"]
        assert (body["domain"], body["category"]) == ("banking", "card_block")
        stored = client.get(f"/api/calls/{body['database']['call_id']}").json()
        assert stored["token_usage"] == usage
        assert "scripted" in client.get("/health").json()["services"]["extraction"]["detail"]
