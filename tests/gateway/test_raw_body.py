"""The recording as the raw request body on /api/transcribe/ and /api/jobs (the seed's load test
posts it so): named from Content-Disposition or X-Filename, with the multipart upload's limits and
errors, documented in the OpenAPI, and the seed's own `ab` line run against a real process."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audiohub.gateway.app import create_app
from tests.conftest import AUDIO, make_settings
from tests.keys import authorize, key_for
from tests.processes import one_process

MP3 = AUDIO / "healthcare_appointment.mp3"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("raw") / "data", max_upload_mb=2)
    with TestClient(create_app(settings)) as c:
        yield authorize(c, "analyst")


def _raw(client: TestClient, route: str, data: bytes, kind: str = "audio/mpeg",
         **headers: str) -> Any:
    return client.post(route, content=data, headers={"Content-Type": kind, **headers})


def _tmp_files(client: TestClient) -> list[Path]:
    data: Path = client.app.state.settings.data_dir  # type: ignore[attr-defined]
    return [p for d in (data / "tmp", data / "jobs" / "tmp") if d.is_dir() for p in d.iterdir()]


@pytest.mark.parametrize(("headers", "name"), [
    ({"Content-Disposition": 'attachment; filename="call one.mp3"'}, "call one.mp3"),
    # RFC 6266's encoded form, and the path a client must never get to name
    ({"Content-Disposition": "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.mp3"}, "résumé.mp3"),
    ({"X-Filename": "../../etc/passwd.mp3"}, "passwd.mp3"),
    ({}, "upload"),
])
def test_transcribe_takes_the_raw_body(client: TestClient, headers: dict[str, str],
                                       name: str) -> None:
    r = _raw(client, "/api/transcribe/", MP3.read_bytes(), **headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["filename"] == name
    assert "patel" in body["transcription"].lower()
    assert body["database"]["success"] is True
    assert _tmp_files(client) == []


def test_octet_stream_is_a_raw_body_too(client: TestClient) -> None:
    r = _raw(client, "/api/transcribe/", MP3.read_bytes(), "application/octet-stream",
             **{"X-Filename": "octets.mp3"})
    assert r.status_code == 200, r.text
    assert r.json()["filename"] == "octets.mp3"


@pytest.mark.parametrize("route", ["/api/transcribe/", "/api/jobs"])
def test_raw_body_errors_are_the_multipart_ones(client: TestClient, route: str) -> None:
    r = _raw(client, route, b"")
    assert (r.status_code, r.json()["error"]) == (400, "empty_file")
    r = _raw(client, route, bytes(3 * 1024 * 1024))  # MAX_UPLOAD_MB is 2
    assert (r.status_code, r.json()["error"]) == (413, "file_too_large")
    # Neither a form nor audio: the answer says both ways to send it.
    r = _raw(client, route, b"hello", "text/plain")
    assert (r.status_code, r.json()["error"]) == (422, "missing_file")
    assert "raw body" in r.json()["detail"]
    assert _tmp_files(client) == []


def test_raw_body_that_is_not_audio_is_415(client: TestClient) -> None:
    r = _raw(client, "/api/transcribe/", (AUDIO / "not_audio.txt").read_bytes(),
             **{"X-Filename": "notes.mp3"})
    assert r.status_code == 415, r.text
    assert r.json()["error"] == "unsupported_audio"
    with (AUDIO / "not_audio.txt").open("rb") as f:  # as multipart: the same answer
        m = client.post("/api/transcribe/", files={"file": ("notes.mp3", f)})
    assert (m.status_code, m.json()["error"]) == (415, "unsupported_audio")


def test_jobs_take_the_raw_body(client: TestClient) -> None:
    # force: this recording was analysed above; the job must analyse it again under its name.
    r = _raw(client, "/api/jobs?force=true", MP3.read_bytes(),
             **{"Content-Disposition": "attachment; filename=queued.mp3"})
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    deadline = time.monotonic() + 120
    while (job := client.get(f"/api/jobs/{job_id}").json())["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.5)
    assert job["status"] == "done", job
    assert job["result"]["filename"] == "queued.mp3"
    assert "patel" in job["result"]["transcription"].lower()


def test_multipart_still_works_on_both_routes(client: TestClient) -> None:
    with MP3.open("rb") as f:
        r = client.post("/api/transcribe/", files={"file": ("form.mp3", f)})
    assert r.status_code == 200, r.text
    assert r.json()["filename"] == "form.mp3"
    with MP3.open("rb") as f:
        r = client.post("/api/jobs", files={"file": ("form.mp3", f)})
    assert r.status_code == 202, r.text


def test_openapi_documents_the_raw_body_beside_multipart(client: TestClient) -> None:
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    for route in ("/api/transcribe/", "/api/jobs"):
        content = paths[route]["post"]["requestBody"]["content"]
        assert set(content) == {"multipart/form-data", "audio/*", "application/octet-stream"}
        assert content["multipart/form-data"]["schema"]["$ref"].startswith("#/components/")


def test_the_seeds_ab_load_test_works(tmp_path: Path) -> None:
    """`ab -n 8 -c 2 -p audio.mp3 -T audio/mpeg http://localhost:8000/api/transcribe/`, the
    seed's own line, with a key (scripts/ensure_tools.sh installs ab)."""
    ab = shutil.which("ab")
    assert ab is not None, "ab is missing: run scripts/ensure_tools.sh (apache2-utils)"
    data = tmp_path / "data"
    key = key_for(make_settings(data), "analyst")
    audio = tmp_path / "audio.mp3"  # the call's first 6 s: eight analyses, not eight calls' worth
    subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(MP3), "-t", "6", "-c", "copy",
                    str(audio)], check=True)
    with one_process(data, tmp_path / "server.log") as url:
        started = time.monotonic()
        out = subprocess.run(
            [ab, "-n", "8", "-c", "2", "-p", str(audio), "-T", "audio/mpeg",
             "-H", f"Authorization: Bearer {key}", f"{url}/api/transcribe/"],
            capture_output=True, text=True, timeout=300, check=False)
        took = time.monotonic() - started
    print(f"\nab -n 8 -c 2: {took:.1f} s\n" + "\n".join(
        line for line in out.stdout.splitlines()
        if line.startswith(("Complete", "Failed", "Non-2xx", "Requests per", "Time per"))))
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.search(r"^Complete requests:\s+8$", out.stdout, re.M), out.stdout
    assert "Non-2xx responses" not in out.stdout, out.stdout
    # ab counts an answer of another length than the first as "failed (Length)": the results
    # differ (call ids, timings). Any failure other than Length is a real one.
    failed = re.search(r"^Failed requests:\s+(\d+)$", out.stdout, re.M)
    assert failed is not None
    if int(failed.group(1)):
        assert re.search(r"\(Connect: 0, Receive: 0, Length: \d+, Exceptions: 0\)", out.stdout)
