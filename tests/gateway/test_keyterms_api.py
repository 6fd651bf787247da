"""`keyterms` on POST /api/transcribe/: the words a caller expects reach the recogniser, from the
multipart field (repeated, or comma-separated) and from the query string (a raw-body upload's
only place for them), and a bad list is a 422 that names the problem.

Real Whisper base on a real 8 kHz call: without hints it hears "Metroman" and "non-carter";
told to expect "Metro Bank" and "John Carter" it writes them. The hint mode is pinned to
hotwords, so the test checks that the terms reach the decoder, whatever the default becomes.
Base, not the suite's tiny.en: tiny.en hears this call right on some CPUs (int8 kernels differ
by CPU), so it would show nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audiohub.config import Settings, WhisperSettings
from audiohub.gateway.app import create_app
from audiohub.transcription.schemas import MAX_KEYTERMS
from tests.conftest import AUDIO, make_settings
from tests.keys import authorize

CALL = AUDIO / "banking_card_block_8k.wav"
TERMS = ["John Carter", "Metro Bank"]


def hinted_settings(data_dir: Path, database_url: str | None = None, **kw: Any) -> Settings:
    whisper = WhisperSettings(model="base", WHISPER_KEYTERM_HINT="hotwords")
    return make_settings(data_dir, database_url, whisper=whisper, **kw)


def post(client: TestClient, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    with CALL.open("rb") as f:
        return client.post("/api/transcribe/", files={"file": (CALL.name, f, "audio/wav")},
                           data=data, **kw)


def test_keyterms_from_the_form_or_the_query_reach_the_recogniser(
        tmp_path: Path, database_url: str | None) -> None:
    with TestClient(create_app(hinted_settings(tmp_path / "data", database_url))) as client:
        authorize(client, "analyst")
        plain = post(client)
        assert plain.status_code == 200, plain.text
        assert "John Carter" not in plain.json()["transcription"]

        # One comma-separated value (what the dashboard's field sends).
        hinted = post(client, data={"keyterms": "John Carter, Metro Bank"})
        assert hinted.status_code == 200, hinted.text
        text = hinted.json()["transcription"]
        assert "John Carter" in text and "Metro Bank" in text

        # The raw body, the terms as repeated query parameters.
        raw = client.post("/api/transcribe/", content=CALL.read_bytes(),
                          params=[("keyterms", t) for t in TERMS],
                          headers={"Content-Type": "audio/wav"})
        assert raw.status_code == 200, raw.text
        assert all(t in raw.json()["transcription"] for t in TERMS)
        assert client.get("/api/stats").json()["total_calls"] == 3


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = hinted_settings(tmp_path_factory.mktemp("keyterms") / "data")
    with TestClient(create_app(settings)) as c:
        yield authorize(c, "analyst")


@pytest.mark.parametrize(("form", "query", "problem"), [
    ({"keyterms": "Metro\x07Bank"}, [], "body.keyterms: Value error, keyterm 'Metro\\x07Bank' "
                                        "has the control character U+0007"),
    ({}, [("keyterms", "x" * 101)], "query.keyterms: Value error, keyterm 'xxxxxxxxxxxxxxxx"),
    ({"keyterms": ",".join(f"term {n}" for n in range(MAX_KEYTERMS + 1))}, [],
     f"{MAX_KEYTERMS + 1} keyterms: at most {MAX_KEYTERMS} per request"),
    # Each place within the limit, both together over it.
    ({"keyterms": ",".join(f"a{n}" for n in range(30))}, [("keyterms", f"b{n}") for n in range(21)],
     f"keyterms: {MAX_KEYTERMS + 1} keyterms: at most {MAX_KEYTERMS} per request"),
])
def test_bad_keyterms_are_a_422_naming_the_problem(
        client: TestClient, form: dict[str, str], query: list[tuple[str, str]],
        problem: str) -> None:
    r = post(client, data=form, params=query)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_request"
    assert problem in r.json()["detail"]
    raw = client.post("/api/transcribe/", content=CALL.read_bytes(),
                      params=[*query, *[("keyterms", v) for v in form.values()]],
                      headers={"Content-Type": "audio/wav"})
    assert raw.status_code == 422, raw.text
    assert client.get("/api/stats").json()["total_calls"] == 0


def test_blank_and_repeated_terms_are_dropped_not_refused(client: TestClient) -> None:
    """What the dashboard sends when its field is left empty, and a term given twice (in any
    case), are no error: the hint is the same."""
    r = client.post("/api/transcribe/", content=b"", params=[("keyterms", " , "),
                    ("keyterms", "Metro Bank,metro  bank")], headers={"Content-Type": "audio/wav"})
    assert r.status_code == 400 and r.json()["error"] == "empty_file"  # past the keyterms


def test_the_openapi_documents_keyterms_in_the_form_and_the_query(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/api/transcribe/", "/api/jobs"):
        op = spec["paths"][path]["post"]
        (query,) = [p for p in op["parameters"] if p["name"] == "keyterms"]
        assert query["in"] == "query" and "comma" in query["description"]
        body = op["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
        form = spec["components"]["schemas"][body.rsplit("/", 1)[1]]["properties"]["keyterms"]
        assert {"type": "array", "items": {"type": "string"}} in form["anyOf"]
