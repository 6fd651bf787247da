"""The CLI runs the same pipeline as the API and stores its results the same way."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audiohub.cli import app
from tests.conftest import AUDIO

runner = CliRunner()


def test_analyze_writes_one_json_per_file_and_stores_them(data_dir: Path, tmp_path: Path) -> None:
    files = [AUDIO / "banking_card_block_16k.wav", AUDIO / "ecommerce_refund_16k.wav"]
    out = tmp_path / "out"
    r = runner.invoke(app, ["analyze", *map(str, files), "--out", str(out)])
    assert r.exit_code == 0, r.output
    written = sorted(p.name for p in out.iterdir())
    assert written == ["banking_card_block_16k.json", "ecommerce_refund_16k.json"]
    card = json.loads((out / "banking_card_block_16k.json").read_text())
    assert set(card) == {"filename", "transcription", "domain", "category",
                         "domain_specific_data", "evidence", "general_metrics", "database",
                         "token_usage"}
    assert card["domain"] == "banking"
    stats = runner.invoke(app, ["stats", "--json"])
    assert stats.exit_code == 0, stats.output
    assert json.loads(stats.stdout)["total_calls"] == 2


def test_analyze_json_matches_the_stored_call(data_dir: Path) -> None:
    r = runner.invoke(app, ["analyze", str(AUDIO / "healthcare_appointment_16k.wav"), "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    from fastapi.testclient import TestClient

    from audiohub.config import Settings
    from audiohub.gateway.app import create_app
    from tests.keys import authorize

    with TestClient(create_app(Settings())) as client:
        stored = authorize(client, "viewer").get(f"/api/calls/{body['database']['call_id']}").json()
    assert stored == body


def test_bad_file_fails_with_a_message_and_stores_nothing(data_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "notes.wav"
    shutil.copy(AUDIO / "not_audio.txt", bad)
    r = runner.invoke(app, ["analyze", str(bad)])
    assert r.exit_code == 1
    assert "unsupported_audio" in r.output
    stats = runner.invoke(app, ["stats", "--json"])
    assert json.loads(stats.stdout)["total_calls"] == 0


@pytest.mark.parametrize("stage", ["transcription", "prompt", "extraction", "persistence"])
def test_a_stage_service_will_not_listen_on_the_network_without_a_token(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    monkeypatch.delenv("SERVICE_TOKEN", raising=False)
    r = runner.invoke(app, ["serve", stage, "--host", "0.0.0.0"])
    assert r.exit_code == 2
    assert "SERVICE_TOKEN" in r.output
    assert not data_dir.exists()  # refused before anything was built


def test_prepare_models_loads_every_configured_model(data_dir: Path) -> None:
    r = runner.invoke(app, ["prepare-models"])
    assert r.exit_code == 0, r.output
    assert "transcriber:" in r.output and "analyzer:" in r.output


def test_an_unknown_backend_name_is_a_clear_configuration_error(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANALYZER", "claude")
    r = runner.invoke(app, ["stats"])
    assert r.exit_code == 2
    assert "ANALYZER" in r.output and "'local', 'gemini' or 'openai'" in r.output


def test_analyze_keyterms_reach_the_recogniser_alone_and_as_jobs(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHISPER_KEYTERM_HINT", "hotwords")  # the terms as decoding hints
    call = str(AUDIO / "banking_card_block_8k.wav")
    r = runner.invoke(app, ["analyze", call, "--json", "--keyterm", "John Carter",
                            "--keyterm", "Metro Bank"])
    assert r.exit_code == 0, r.output
    alone = json.loads(r.stdout)
    assert "John Carter" in alone["transcription"]
    # As a job: the same terms (one comma-separated value), so the call above is reused.
    r = runner.invoke(app, ["analyze", call, "--jobs", "--json",
                            "--keyterm", "Metro Bank,John Carter"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["database"] == alone["database"]
    r = runner.invoke(app, ["analyze", call, "--keyterm", "x" * 51])
    assert r.exit_code == 2
    assert "longer than 50 characters" in " ".join(r.output.replace("│", " ").split())
