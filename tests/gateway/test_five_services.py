"""The seed's five services as five real processes on loopback ports, sharing only PostgreSQL and
HTTP: a call through the gateway, the seed README's curl examples against each service, and the
gateway's 503 when a stage is down (after the retries), then success once it is back."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from audiohub.config import RoleName
from audiohub.domain import (
    CallRecord,
    Classification,
    Extraction,
    GeneralMetrics,
    Sentiment,
    TokenUsage,
    Transcript,
)
from tests.conftest import AUDIO, make_settings, pg_database
from tests.keys import key_for
from tests.processes import Server, start_five

TOKEN = "test-service-token"
AUTH = {"X-Service-Token": TOKEN}
CALL = AUDIO / "healthcare_appointment_16k.wav"


@dataclass
class Cluster:
    servers: dict[str, Server]
    dirs: dict[str, Path]

    def url(self, stage: str) -> str:
        return self.servers[stage].url

    def auth(self, role: RoleName = "analyst") -> dict[str, str]:
        """Headers with a new key of `role` for the gateway: made in its own database (its data
        dir's SQLite file, which holds its users and keys), read on each request."""
        return {"Authorization": f"Bearer {key_for(make_settings(self.dirs['gateway']), role)}"}


@pytest.fixture(scope="module")
def cluster(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("five")
    with pg_database(pg_server) as database_url:
        servers = start_five(root, database_url, TOKEN)
        # Keyterms as decoding hints, whatever the default mode: test_keyterms_* hears them.
        servers["transcription"].env["WHISPER_KEYTERM_HINT"] = "hotwords"
        # Base: tiny.en hears the keyterm call right unhinted on some CPUs (int8 kernels differ).
        servers["transcription"].env["WHISPER_MODEL"] = "base"
        try:
            for server in servers.values():
                server.start()
            yield Cluster(servers, {stage: root / stage for stage in servers})
        finally:
            for server in servers.values():
                server.stop()


def _post_call(cluster: Cluster) -> httpx.Response:
    with CALL.open("rb") as f:
        return httpx.post(f"{cluster.url('gateway')}/api/transcribe/", headers=cluster.auth(),
                          files={"file": ("call.wav", f, "audio/wav")}, timeout=180)


def test_a_call_through_the_gateway(cluster: Cluster) -> None:
    r = _post_call(cluster)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["domain"], body["category"]) == ("healthcare", "appointment_scheduling")
    assert "Maria" in body["transcription"]
    for name, ev in body["evidence"].items():  # grounded across the service boundary
        assert body["transcription"][ev["char_start"]:ev["char_end"]] == ev["text"], name
        assert ev["start_s"] is not None
    call_id = body["database"]["call_id"]
    assert body["database"]["success"] is True
    gateway = cluster.url("gateway")
    viewer = cluster.auth("viewer")
    assert httpx.get(f"{gateway}/api/calls/{call_id}", headers=viewer).json() == body
    assert httpx.get(f"{gateway}/api/calls/{call_id}").status_code == 401
    with_segments = httpx.get(f"{gateway}/api/calls/{call_id}?segments=true",
                              headers=viewer).json()
    assert with_segments["segments"][0]["words"]
    listed = httpx.get(f"{gateway}/api/calls", headers=viewer).json()
    assert call_id in [c["call_id"] for c in listed["items"]]
    assert httpx.get(f"{gateway}/api/stats", headers=viewer).json()["by_domain"]["healthcare"] >= 1
    # The recording, streamed from the persistence service through the gateway, by range.
    part = httpx.get(f"{gateway}/api/calls/{call_id}/audio",
                     headers={**viewer, "Range": "bytes=0-99"})
    assert part.status_code == 206, part.text
    assert part.content == CALL.read_bytes()[:100]
    assert part.headers["content-range"] == f"bytes 0-99/{CALL.stat().st_size}"
    health = httpx.get(f"{gateway}/health", headers=cluster.auth()).json()
    assert health["status"] == "healthy", health
    assert cluster.url("extraction") in health["services"]["extraction"]["detail"]
    # The recording was stored by the persistence service; the stages opened no database, and
    # the gateway's own (its users and keys) holds no call.
    assert list((cluster.dirs["persistence"] / "audio").rglob("*.wav"))
    for stage in ("transcription", "extraction"):
        assert not (cluster.dirs[stage] / "audiohub.db").exists(), stage
    engine = create_engine(f"sqlite:///{cluster.dirs['gateway'] / 'audiohub.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM calls")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM api_keys")).scalar_one() >= 1
    engine.dispose()
    assert not (cluster.dirs["gateway"] / "audio").exists()


def test_keyterms_cross_from_the_gateway_to_the_transcription_service(cluster: Cluster) -> None:
    """The gateway streams the recording to the transcription service with the keyterms in the
    query string: real Whisper base hears "John Carter" on this 8 kHz call only when told to expect
    it. The prompt service's answer, which the transcription service classifies among, carries
    each category's own terms."""
    call = AUDIO / "banking_card_block_8k.wav"
    gateway = cluster.url("gateway")
    heard = []
    for params in ([], [("keyterms", "John Carter"), ("keyterms", "Metro Bank")]):
        r = httpx.post(f"{gateway}/api/transcribe/", content=call.read_bytes(), params=params,
                       headers={**cluster.auth(), "Content-Type": "audio/wav"}, timeout=300)
        assert r.status_code == 200, r.text
        heard.append(r.json()["transcription"])
    assert "John Carter" not in heard[0] and "John Carter" in heard[1]
    bad = httpx.post(f"{gateway}/api/transcribe/", content=call.read_bytes(),
                     params={"keyterms": "x" * 51},
                     headers={**cluster.auth(), "Content-Type": "audio/wav"}, timeout=60)
    assert bad.status_code == 422 and "longer than 50" in bad.json()["detail"]
    specs = httpx.get(f"{cluster.url('prompt')}/prompts", headers=AUTH).json()
    refill = next(s for s in specs if s["category"] == "prescription_refill")
    assert "Metformin" in refill["keyterms"]


def test_the_seed_readme_curls_against_each_service(cluster: Cluster) -> None:
    t = cluster.url("transcription")
    # curl -X POST :8001/transcribe -H "Content-Type: application/json"
    #      -d '{"file_bytes": "...", "mime_type": "audio/mpeg"}'
    hexed = {"file_bytes": CALL.read_bytes().hex(), "mime_type": "audio/wav"}
    seed = httpx.post(f"{t}/transcribe", json=hexed, headers=AUTH, timeout=120)
    assert seed.status_code == 200, seed.text
    stage1 = seed.json()
    assert {"transcription", "domain", "category", "tokens", "segments"} <= stage1.keys()
    assert stage1["domain"] == "healthcare"
    raw = httpx.post(f"{t}/transcribe", content=CALL.read_bytes(), timeout=120,
                     headers={**AUTH, "Content-Type": "application/octet-stream"})
    assert raw.json()["transcription"] == stage1["transcription"]
    with CALL.open("rb") as f:
        form = httpx.post(f"{t}/transcribe", files={"file": f}, headers=AUTH, timeout=120)
    assert form.json()["transcription"] == stage1["transcription"]

    p = cluster.url("prompt")
    # curl -X POST :8002/validate-and-generate -d '{"domain": "healthcare", ...}'
    pair = {"domain": "healthcare", "category": "appointment_scheduling"}
    known = httpx.post(f"{p}/validate-and-generate", json=pair, headers=AUTH).json()
    assert "healthcare" in known["custom_prompt"] and known["spec"]["fields"]
    unknown = httpx.post(f"{p}/validate-and-generate", headers=AUTH,
                         json={"domain": "aviation", "category": "lost_luggage"}).json()
    assert unknown["custom_prompt"] is None
    domains = httpx.get(f"{p}/domains", headers=AUTH).json()["domains"]
    assert "appointment_scheduling" in domains["healthcare"]
    fetched = httpx.get(f"{p}/fetch-prompt", params=pair, headers=AUTH)
    assert fetched.json()["custom_prompt"] == known["custom_prompt"]
    missing = httpx.get(f"{p}/fetch-prompt", headers=AUTH,
                        params={"domain": "aviation", "category": "lost_luggage"})
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"

    # The seed's stage-2 body: text, domain, category, custom_prompt.
    e = httpx.post(f"{cluster.url('extraction')}/extract", headers=AUTH, timeout=60, json={
        "transcription": stage1["transcription"], **pair,
        "custom_prompt": known["custom_prompt"]})
    assert e.status_code == 200, e.text
    extracted = e.json()
    assert {"extracted_data", "general_metrics", "tokens"} <= extracted.keys()
    assert "Maria" in (extracted["extracted_data"]["patient_name"] or "")
    assert extracted["general_metrics"]["summary"]

    s = cluster.url("persistence")
    stats = httpx.get(f"{s}/stats", headers=AUTH).json()
    assert stats["total_calls"] >= 1
    first = httpx.get(f"{s}/calls", headers=AUTH).json()["items"][-1]["call_id"]
    assert httpx.get(f"{s}/call/{first}", headers=AUTH).json()["domain"] == "healthcare"

    for stage in ("gateway", "transcription", "prompt", "extraction", "persistence"):
        url = cluster.url(stage)
        assert httpx.get(f"{url}/health").status_code == 200, stage  # probes need no token
        # The gateway's docs are for those signed in to it; the stages' are behind their
        # network (their API needs the service token).
        auth = cluster.auth("viewer") if stage == "gateway" else {}
        assert httpx.get(f"{url}/docs", headers=auth).status_code == 200, stage


def test_stage_services_refuse_callers_without_the_token(cluster: Cluster) -> None:
    r = httpx.post(f"{cluster.url('transcription')}/transcribe", content=b"x")
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    wrong = httpx.get(f"{cluster.url('persistence')}/stats",
                      headers={"X-Service-Token": "guess"})
    assert wrong.status_code == 401


def test_bad_input_is_a_4xx_at_once_not_retried(cluster: Cluster) -> None:
    t = cluster.url("transcription")
    bad_hex = httpx.post(f"{t}/transcribe", json={"file_bytes": "zz"}, headers=AUTH)
    assert bad_hex.status_code == 400, bad_hex.text
    empty = httpx.post(f"{t}/transcribe", content=b"", headers=AUTH)
    assert (empty.status_code, empty.json()["error"]) == (400, "empty_file")
    log = cluster.servers["transcription"].log
    before = log.read_text().count("POST /transcribe")
    with (AUDIO / "not_audio.txt").open("rb") as f:
        r = httpx.post(f"{cluster.url('gateway')}/api/transcribe/", files={"file": f},
                       headers=cluster.auth("uploader"), timeout=60)
    assert r.status_code == 415, r.text
    assert r.json()["error"] == "unsupported_audio"
    assert log.read_text().count("POST /transcribe") == before + 1  # one attempt, no retry


def test_a_stopped_stage_gives_503_after_the_retries_then_recovers(cluster: Cluster) -> None:
    stats_url = f"{cluster.url('gateway')}/api/stats"
    auth = cluster.auth()
    stored = httpx.get(stats_url, headers=auth).json()["total_calls"]
    extraction = cluster.servers["extraction"]
    extraction.stop()
    started = time.monotonic()
    r = _post_call(cluster)
    elapsed = time.monotonic() - started
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "stage_unavailable"
    assert "extraction service" in r.json()["detail"]
    assert "3 attempts" in r.json()["detail"]
    # Backoff 1 s then 2 s between the three attempts, on top of transcribing the call once.
    assert 3.0 <= elapsed < 60, elapsed
    # Nothing half-stored.
    assert httpx.get(stats_url, headers=auth).json()["total_calls"] == stored
    assert httpx.get(f"{cluster.url('gateway')}/health").json() == {"status": "degraded"}

    extraction.start()
    again = _post_call(cluster)
    assert again.status_code == 200, again.text
    assert httpx.get(stats_url, headers=auth).json()["total_calls"] == stored + 1


def test_save_refuses_a_record_whose_hash_is_not_the_audio_s(cluster: Cluster) -> None:
    """The store files recordings by sha256: a record may not claim another file's hash."""
    s = cluster.url("persistence")
    before = httpx.get(f"{s}/stats", headers=AUTH).json()["total_calls"]
    record = CallRecord(
        filename="call.wav", audio_sha256="0" * 64, audio_format="wav",
        transcript=Transcript(text="", language="en", duration=1.0),
        classification=Classification(domain="general", category="general_inquiry"),
        extraction=Extraction(domain_specific_data={}, general_metrics=GeneralMetrics(
            summary="", sentiment=Sentiment(label="neutral", score=0.0),
            call_outcome="unresolved", key_topics=[], action_items=[], pii_detected=[],
            duration_seconds=1.0, language="en")),
        token_usage=TokenUsage(), prompt_version=1)
    r = httpx.post(f"{s}/save", headers=AUTH, files={
        "record": ("record.json", record.model_dump_json(), "application/json"),
        "audio": ("call.wav", CALL.read_bytes(), "audio/wav")})
    assert r.status_code == 400, r.text
    assert "sha256" in r.json()["detail"]
    assert httpx.get(f"{s}/stats", headers=AUTH).json()["total_calls"] == before


def test_the_dashboard_works_in_front_of_the_five_services(cluster: Cluster) -> None:
    """The pages read through the same stage clients as the API: calls, search and the call
    page from the persistence service, prompts (and an edit) from the prompt service."""
    call_id = _post_call(cluster).json()["database"]["call_id"]
    gateway = cluster.url("gateway")
    # A key, not a browser: no sign-in form, no CSRF token (keys are not sent by browsers).
    with httpx.Client(base_url=gateway, timeout=30, headers=cluster.auth("admin")) as ui:
        listed = ui.get("/ui/", params={"q": "Maria", "domain": "healthcare"})
        assert listed.status_code == 200 and f"/ui/calls/{call_id}" in listed.text
        assert "No calls match" in ui.get("/ui/", params={"q": "zebra"}).text
        page = ui.get(f"/ui/calls/{call_id}")
        assert page.status_code == 200
        assert 'id="ev-1"' in page.text and f"/api/calls/{call_id}/audio" in page.text
        assert "healthcare" in ui.get("/ui/stats").text
        assert "appointment_scheduling" in ui.get("/ui/prompts").text
        version = re.search(r'name="version" value="(\d+)"',
                            ui.get("/ui/prompts/banking/card_block").text)
        assert version is not None
        saved = ui.post("/ui/prompts/banking/card_block",
                        data={"action": "save", "version": version.group(1),
                              "prompt": "Find the card and why to block it.",
                              "fields": "card_last_four: the last four digits",
                              "description": "A card to block"})
        assert saved.status_code == 303, saved.text
        shown = ui.get(saved.headers["location"])
        assert "Find the card and why to block it." in shown.text and "Saved as version" in (
            shown.text)
        # No DATABASE_URL on this gateway: uploads (jobs) are off, and the page says how.
        assert "set DATABASE_URL on the gateway" in ui.get("/ui/upload").text
