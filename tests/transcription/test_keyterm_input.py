"""Keyterms as the transcription service takes them: the rules every entry point shares
(`clean_keyterms`), and the service's three bodies (the JSON hex body's `keyterms` list, the
multipart field, the query parameter beside a streamed body), checked with real Whisper tiny.en
on an 8 kHz call where "John Carter" is heard only when expected. The hint mode is pinned to
hotwords: the test is that the terms reach the decoder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from audiohub.config import ServiceSettings, WhisperSettings
from audiohub.domain import Classification, Correction, TokenCount, Transcript, TranscriptionResult
from audiohub.services import create_service_app
from audiohub.transcription.schemas import (
    MAX_KEYTERM_CHARS,
    MAX_KEYTERMS,
    TranscribeResponse,
    clean_keyterms,
)
from tests.conftest import AUDIO, make_settings

TOKEN = "keyterm-token"
CALL = AUDIO / "banking_card_block_8k.wav"


def test_terms_are_trimmed_deduplicated_and_split_only_when_asked() -> None:
    assert clean_keyterms(["  Metro   Bank ", "metro bank", "", " ", "John Carter"]) == [
        "Metro Bank", "John Carter"]
    assert clean_keyterms(["Smith, John"]) == ["Smith, John"]  # a JSON list's term is whole
    assert clean_keyterms(["Metro Bank,John Carter", ",,"], split=True) == [
        "Metro Bank", "John Carter"]
    assert clean_keyterms(["Zoë Ångström", "tab\there\n"]) == ["Zoë Ångström", "tab here"]
    assert len(clean_keyterms([f"t{n}" for n in range(MAX_KEYTERMS)] * 2)) == MAX_KEYTERMS


@pytest.mark.parametrize(("terms", "problem"), [
    (["a\x00b"], "control character U+0000"),
    (["bell\x07"], "control character U+0007"),
    (["\ud800"], "control character U+D800"),
    (["x" * (MAX_KEYTERM_CHARS + 1)], f"longer than {MAX_KEYTERM_CHARS} characters"),
    ([f"t{n}" for n in range(MAX_KEYTERMS + 1)],
     f"{MAX_KEYTERMS + 1} keyterms: at most {MAX_KEYTERMS} per request"),
])
def test_bad_terms_are_refused_by_name(terms: list[str], problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        clean_keyterms(terms)


def test_the_wire_answer_keeps_corrections_and_speech_coverage() -> None:
    fix = Correction.model_validate({"from": "Metroman", "to": "Metro Bank", "char_start": 0,
                                     "char_end": 10, "start": 0.0, "end": 0.8})
    result = TranscriptionResult(
        transcript=Transcript(text="Metro Bank, hello", language="en", duration=2.0,
                              speech_coverage=0.9, corrections=[fix]),
        classification=Classification(domain="banking", category="card_block", score=0.5),
        audio_format="wav", tokens=TokenCount())
    wire = TranscribeResponse.model_validate_json(TranscribeResponse.of(result).model_dump_json())
    assert wire.result() == result
    assert '"from":"Metroman"' in TranscribeResponse.of(result).model_dump_json()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("keyterms"),
                             whisper=WhisperSettings(WHISPER_KEYTERM_HINT="hotwords"),
                             services=ServiceSettings(SERVICE_TOKEN=TOKEN))
    app = create_service_app(settings, "transcription")
    with TestClient(app, headers={"X-Service-Token": TOKEN}) as client:
        yield client


def test_the_json_body_and_the_multipart_field_carry_keyterms(service: TestClient) -> None:
    hexed = {"file_bytes": CALL.read_bytes().hex(), "mime_type": "audio/wav",
             "keyterms": ["John Carter", "Metro Bank"]}
    r = service.post("/transcribe", json=hexed)
    assert r.status_code == 200, r.text
    assert "John Carter" in r.json()["transcription"]
    with CALL.open("rb") as f:
        r = service.post("/transcribe", files={"file": (CALL.name, f, "audio/wav")},
                         data={"keyterms": "John Carter,Metro Bank"})
    assert r.status_code == 200, r.text
    assert "John Carter" in r.json()["transcription"]


def test_bad_keyterms_in_any_body_are_a_422(service: TestClient) -> None:
    data = CALL.read_bytes()
    answers = [
        service.post("/transcribe", json={"file_bytes": data.hex(), "keyterms": ["x" * 101]}),
        service.post("/transcribe", files={"file": ("a.wav", data)},
                     data={"keyterms": "x" * 101}),
        service.post("/transcribe", content=data, params={"keyterms": "x" * 101},
                     headers={"Content-Type": "application/octet-stream"}),
        service.post("/transcribe", files={"file": ("a.wav", data)},
                     data={"keyterms": ",".join(f"a{n}" for n in range(60))},
                     params=[("keyterms", f"b{n}") for n in range(41)]),
    ]
    for r in answers:
        assert r.status_code == 422, r.text
        assert r.json()["error"] == "invalid_request"
        assert "keyterms" in r.json()["detail"]
    data_dir: Path = service.app.state.settings.data_dir  # type: ignore[attr-defined]
    assert not list((data_dir / "tmp").iterdir())  # nothing staged is left behind
