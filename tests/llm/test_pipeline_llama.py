"""A real call through the whole hub with ANALYZER=openai against a REAL OpenAI-compatible
server: llama-cpp-python's server with SmolLM2-135M on loopback. The tiny model's answers are
not wise; what is checked is that whatever it says arrives as schema keys only, grounded or
flagged, with token usage, in bounded time, and never as a 500."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from audiohub.config import AnalyzerSettings, LLMSettings
from audiohub.gateway.app import create_app
from audiohub.prompts.library import fallback_spec
from tests.conftest import AUDIO, make_settings
from tests.keys import authorize
from tests.llm.conftest import LLAMA_MODEL


def test_a_call_analysed_by_a_local_llm_server(llama_server: str, tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path / "data", analysis=AnalyzerSettings(ANALYZER="openai"),
        llm=LLMSettings(OPENAI_BASE_URL=llama_server, OPENAI_MODEL=LLAMA_MODEL,
                        OPENAI_SCHEMA_MODE="json_object", LLM_MAX_TOKENS=384))
    with TestClient(create_app(settings)) as client, \
            (AUDIO / "banking_card_block_16k.wav").open("rb") as f:
        authorize(client, "uploader")
        started = time.monotonic()
        r = client.post("/api/transcribe/", files={"file": ("call.wav", f)})
        elapsed = time.monotonic() - started
        assert r.status_code == 200, r.text
        body = r.json()
        hub = client.app.state.hub  # type: ignore[attr-defined]
        hub.parts.prompt_generator.wait_saved()
        # The pair's stored spec (a generated one if the model named a new pair), else the
        # general fallback's: exactly its fields come back, nothing the model made up.
        spec = hub.prompts.get(body["domain"], body["category"]) or fallback_spec()
        assert set(body["domain_specific_data"]) == {f.name for f in spec.fields}
        for name, ev in body["evidence"].items():
            value = body["domain_specific_data"][name]
            assert value is not None
            if ev["grounded"]:
                assert body["transcription"][ev["char_start"]:ev["char_end"]] == ev["text"]
        usage = body["token_usage"]
        assert usage["stage1_transcription_and_detection"]["total_tokens"] > 0
        assert usage["stage2_combined_analysis"]["total_tokens"] > 0
        gm = body["general_metrics"]
        assert gm["partial"] is False or gm["partial_reasons"]
        assert elapsed < 300
