"""The one-process gateway with real models on real audio, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from audiohub.gateway.app import create_app
from tests.conftest import AUDIO, make_settings
from tests.keys import authorize

SEED_KEYS = {"filename", "transcription", "domain", "category", "domain_specific_data",
             "general_metrics", "database", "token_usage"}
OUR_KEYS = SEED_KEYS | {"evidence"}


@pytest.fixture
def client(tmp_path: Path, database_url: str | None) -> Iterator[TestClient]:
    settings = make_settings(tmp_path / "data", database_url, max_upload_mb=2)
    with TestClient(create_app(settings)) as c:
        yield authorize(c, "admin")


def post(client: TestClient, name: str, filename: str | None = None, **params: Any) -> Any:
    with (AUDIO / name).open("rb") as f:
        return client.post("/api/transcribe/", files={"file": (filename or name, f)},
                           params=params)


def counts(client: TestClient) -> tuple[int, int, int]:
    """Rows in calls and domain_specific, and files in the audio store."""
    settings = client.app.state.settings  # type: ignore[attr-defined]
    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        calls = conn.execute(text("SELECT count(*) FROM calls")).scalar_one()
        ds = conn.execute(text("SELECT count(*) FROM domain_specific")).scalar_one()
    engine.dispose()
    audio = settings.audio_dir
    files = len([p for p in audio.rglob("*") if p.is_file()]) if audio.exists() else 0
    return calls, ds, files


@pytest.mark.parametrize("name", ["healthcare_appointment_16k.wav", "healthcare_appointment.mp3",
                                  "healthcare_appointment_8k.wav"])
def test_transcribe_returns_the_seed_output(
    client: TestClient, manifest: dict[str, Any], name: str
) -> None:
    r = post(client, name)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == OUR_KEYS
    assert body["filename"] == name
    assert "patel" in body["transcription"].lower()
    assert (body["domain"], body["category"]) == ("healthcare", "appointment_scheduling")
    assert set(body["domain_specific_data"]) == {"patient_name", "doctor_name",
                                                 "appointment_date", "appointment_time", "reason"}
    assert body["database"]["success"] is True and body["database"]["call_id"] >= 1
    assert set(body["token_usage"]) == {"stage1_transcription_and_detection",
                                        "stage2_combined_analysis", "total"}
    assert body["token_usage"]["total"] == {"input_tokens": 0, "output_tokens": 0,
                                            "total_tokens": 0}
    m = body["general_metrics"]
    for key in ("summary", "sentiment", "call_outcome", "key_topics", "action_items",
                "pii_detected", "duration_seconds", "language", "talk_time_seconds",
                "silence_ratio", "words_per_minute"):
        assert key in m
    expected_s = manifest["calls"]["healthcare_appointment"]["duration_s"]
    assert m["duration_seconds"] == pytest.approx(expected_s, abs=0.15)
    for field, ev in body["evidence"].items():
        assert body["domain_specific_data"][field] is not None
        assert body["transcription"][ev["char_start"]:ev["char_end"]] == ev["text"]
        assert 0 <= ev["start_s"] <= ev["end_s"] <= m["duration_seconds"] + 0.5
    assert counts(client) == (1, 1, 1)


def test_stored_call_reads_back_identically(client: TestClient) -> None:
    posted = post(client, "banking_card_block_16k.wav").json()
    call_id = posted["database"]["call_id"]
    r = client.get(f"/api/calls/{call_id}")
    assert r.status_code == 200
    assert r.json() == posted
    detailed = client.get(f"/api/calls/{call_id}", params={"segments": "true"}).json()
    assert detailed["segments"] and detailed["segments"][0]["words"][0]["start"] >= 0
    assert client.get("/api/calls/999999").status_code == 404
    assert client.get("/api/calls/999999").json()["error"] == "not_found"


def test_segments_on_request(client: TestClient) -> None:
    body = post(client, "ecommerce_refund_16k.wav", segments="true").json()
    words = [w for s in body["segments"] for w in s["words"]]
    assert len(words) > 10
    assert all({"word", "start", "end", "probability"} <= set(w) for w in words)


def test_silence_returns_an_empty_transcript(client: TestClient) -> None:
    r = post(client, "silence_5s.wav")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["transcription"] == ""
    assert (body["domain"], body["category"]) == ("general", "general_inquiry")
    assert body["evidence"] == {}
    assert all(v is None for v in body["domain_specific_data"].values())


@pytest.mark.parametrize(
    ("name", "status", "error"),
    [
        ("empty.wav", 400, "empty_file"),
        ("not_audio.txt", 415, "unsupported_audio"),
        ("truncated.wav", 415, "unsupported_audio"),
        ("corrupt.mp3", 415, "unsupported_audio"),
    ],
)
def test_bad_audio_gets_a_4xx_and_stores_nothing(
    client: TestClient, name: str, status: int, error: str
) -> None:
    r = post(client, name)
    assert r.status_code == status
    body = r.json()
    assert body["error"] == error and body["detail"]
    assert counts(client) == (0, 0, 0)
    tmp = client.app.state.settings.data_dir / "tmp"  # type: ignore[attr-defined]
    assert not tmp.exists() or not any(tmp.iterdir())  # the staged upload was removed


def test_missing_file_field(client: TestClient) -> None:
    r = client.post("/api/transcribe/", data={"other": "x"})
    assert r.status_code == 422
    assert r.json()["error"] == "missing_file"
    assert "file" in r.json()["detail"]
    r = client.post("/api/transcribe/")
    assert r.status_code == 422
    assert counts(client) == (0, 0, 0)


def test_upload_over_max_upload_mb(client: TestClient) -> None:
    big = b"RIFF" + bytes(3 * 1024 * 1024)
    r = client.post("/api/transcribe/", files={"file": ("big.wav", big)})
    assert r.status_code == 413
    assert r.json()["error"] == "file_too_large"
    assert "MAX_UPLOAD_MB" in r.json()["detail"]
    assert counts(client) == (0, 0, 0)


def test_filename_is_never_used_as_a_path(client: TestClient, tmp_path: Path) -> None:
    r = post(client, "banking_card_block_16k.wav", filename="../../../../tmp/evil.wav")
    assert r.status_code == 200
    assert r.json()["filename"] == "evil.wav"
    stored = [p for p in client.app.state.settings.audio_dir.rglob("*") if p.is_file()]  # type: ignore[attr-defined]
    assert len(stored) == 1 and stored[0].stem == stored[0].stem.lower()
    assert len(stored[0].stem) == 64  # sha256, not the client's name


def test_stats_health_root_docs(client: TestClient) -> None:
    assert client.get("/api/stats").json()["total_calls"] == 0
    post(client, "banking_card_block_16k.wav")
    post(client, "ecommerce_refund_16k.wav")
    stats = client.get("/api/stats").json()
    assert stats["total_calls"] == 2
    assert stats["by_domain"] == {"banking": 1, "ecommerce": 1}
    assert sum(stats["by_category"].values()) == 2
    assert stats["average_duration_seconds"] > 5
    assert -1 <= stats["average_sentiment"] <= 1
    health = client.get("/health").json()
    assert health["status"] == "healthy"
    # Without a key, liveness only: the details name hosts and versions.
    assert client.get("/health", headers={"Authorization": ""}).json() == {"status": "healthy"}
    assert set(health["services"]) == {"transcription", "prompts", "extraction", "persistence"}
    assert "15 domain/category pairs" in health["services"]["prompts"]["detail"]
    root = client.get("/").json()
    assert root["message"] and "transcribe" in root["endpoints"]
    # FastAPI's own /docs is off on the gateway; the hub serves its own, offline, to callers
    # that are signed in.
    assert client.get("/docs").status_code == 200
    assert "/api/transcribe/" in client.get("/openapi.json").json()["paths"]


def test_calls_list_filters_needs_review(client: TestClient) -> None:
    clear = post(client, "banking_card_block_16k.wav").json()
    silent = post(client, "silence_5s.wav").json()
    assert silent["general_metrics"]["needs_review"] is True
    assert silent["general_metrics"]["review_reasons"] == ["no speech was recognised"]
    assert clear["general_metrics"]["needs_review"] is False, clear["general_metrics"]
    assert 0 < clear["general_metrics"]["mean_word_probability"] <= 1
    listed = client.get("/api/calls").json()
    assert listed["total"] == 2
    assert [c["call_id"] for c in listed["items"]] == [silent["database"]["call_id"],
                                                      clear["database"]["call_id"]]
    review = client.get("/api/calls", params={"needs_review": "true"}).json()
    assert [c["call_id"] for c in review["items"]] == [silent["database"]["call_id"]]
    banking = client.get("/api/calls", params={"domain": "banking"}).json()
    assert banking["total"] == 1 and banking["items"][0]["category"] == "card_block"
    assert client.get("/api/calls", params={"limit": 0}).status_code == 422
    assert client.get("/api/calls", params={"limit": 1, "offset": 1}).json()["items"][0][
        "call_id"] == clear["database"]["call_id"]


def test_unexpected_failure_is_a_json_500_and_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path / "data")
    # raise_server_exceptions=False: see the response a real client gets, not the traceback.
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        authorize(client, "analyst")
        hub = client.app.state.hub  # type: ignore[attr-defined]

        def broken(*_: Any) -> Any:
            raise RuntimeError("model crashed")

        monkeypatch.setattr(hub.analyzer, "extract", broken)
        r = post(client, "banking_card_block_16k.wav")
        assert r.status_code == 500
        assert r.json() == {
            "error": "internal_error",
            "detail": "RuntimeError: the hub failed on this request; see the server log"}
        assert counts(client) == (0, 0, 0)
