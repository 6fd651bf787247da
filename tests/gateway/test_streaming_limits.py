"""The upload limit holds while the body streams: a chunked 300 MB body, generated as it is sent
(never held whole), is cut off with 413 soon after MAX_UPLOAD_MB on every upload route of a real
`audiohub serve all` process, and of the stage services that take uploads; nothing of it stays in
data/tmp, the jobs spool or the server's temp dir."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from audiohub.config import ServiceSettings
from audiohub.services import create_service_app
from tests.conftest import make_settings
from tests.keys import key_for
from tests.processes import Server, free_port, serve_in_thread

MB = 1024 * 1024
LIMIT_MB = 4
SENT_MB = 300
BOUNDARY = "audiohub-test-boundary"


@dataclass
class Sent:
    """What the client's generator handed to the connection, and for how long."""

    bytes: int = 0
    seconds: float = 0.0


def _body(sent: Sent, multipart: bool) -> Iterator[bytes]:
    """SENT_MB of zeros in 1 MB chunks, as a multipart `file` part or raw; counted as yielded."""
    chunk = bytes(MB)
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"big.wav\"\r\nContent-Type: audio/wav\r\n\r\n").encode()
    if multipart:
        sent.bytes += len(head)
        yield head
    for _ in range(SENT_MB):
        sent.bytes += len(chunk)
        yield chunk
    if multipart:
        yield f"\r\n--{BOUNDARY}--\r\n".encode()


def _post_streaming(url: str, headers: dict[str, str], multipart: bool) -> tuple[httpx.Response,
                                                                                   Sent]:
    sent = Sent()
    kind = f"multipart/form-data; boundary={BOUNDARY}" if multipart else "audio/wav"
    start = time.monotonic()
    # A generator body has no length: httpx sends it with Transfer-Encoding: chunked.
    r = httpx.post(url, content=_body(sent, multipart), timeout=120,
                   headers={**headers, "Content-Type": kind})
    sent.seconds = time.monotonic() - start
    return r, sent


def _files(*dirs: Path) -> list[Path]:
    return [p for d in dirs if d.is_dir() for p in d.rglob("*") if p.is_file()]


@dataclass
class Hub:
    url: str
    auth: dict[str, str]
    data_dir: Path
    tmp_dir: Path  # the server process's TMPDIR: where Starlette's multipart spool goes


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    root = tmp_path_factory.mktemp("streaming")
    data, tmp = root / "data", root / "systmp"
    tmp.mkdir()
    key = key_for(make_settings(data), "analyst")
    server = Server("all", free_port(), {"AUDIOHUB_DATA_DIR": str(data), "TMPDIR": str(tmp),
                                         "MAX_UPLOAD_MB": str(LIMIT_MB)}, root / "server.log")
    server.env.pop("DATABASE_URL", None)
    try:
        yield Hub(server.start(120).url, {"Authorization": f"Bearer {key}"}, data, tmp)
    finally:
        server.stop()


@pytest.mark.parametrize(("route", "multipart"), [
    ("/api/transcribe/", True), ("/api/jobs", True), ("/ui/upload", True),
    ("/api/transcribe/", False), ("/api/jobs", False),
])
def test_a_chunked_300_mb_upload_is_cut_off_early(hub: Hub, route: str, multipart: bool) -> None:
    r, sent = _post_streaming(f"{hub.url}{route}", hub.auth, multipart)
    print(f"\n{route} ({'multipart' if multipart else 'raw'}, chunked, MAX_UPLOAD_MB "
          f"{LIMIT_MB}): {r.status_code} after the client sent {sent.bytes / MB:.0f} MB of "
          f"{SENT_MB} MB in {sent.seconds:.2f} s")
    assert r.status_code == 413, r.text[:500]
    assert r.headers["connection"] == "close"
    if route.startswith("/api/"):
        assert r.json()["error"] == "file_too_large"
    else:  # the dashboard answers a person with a page
        assert r.headers["content-type"].startswith("text/html")
    # Cut off near the limit: what the socket buffers held beyond it, far from the 300 MB.
    assert sent.bytes < 64 * MB
    assert _files(hub.data_dir / "tmp", hub.data_dir / "jobs", hub.tmp_dir) == []
    assert httpx.get(f"{hub.url}/health", timeout=10).status_code in (200, 503)  # still up


def test_an_upload_within_the_limit_still_goes_through_chunked(hub: Hub) -> None:
    audio = Path(__file__).parents[1] / "fixtures" / "audio" / "silence_5s.wav"

    def chunks() -> Iterator[bytes]:
        yield audio.read_bytes()

    r = httpx.post(f"{hub.url}/api/jobs", content=chunks(), timeout=60,
                   headers={**hub.auth, "Content-Type": "audio/wav", "X-Filename": "quiet.wav"})
    assert r.status_code == 202, r.text
    assert _files(hub.data_dir / "tmp", hub.tmp_dir) == []


@pytest.mark.parametrize("stage", ["persistence", "transcription"])
def test_stage_services_cut_off_a_chunked_upload(tmp_path: Path, stage: str) -> None:
    token = "stage-token-for-this-test"
    settings = make_settings(tmp_path / "data", max_upload_mb=LIMIT_MB,
                             services=ServiceSettings(token=token))
    limit = {"persistence": LIMIT_MB * MB + 64 * MB, "transcription": 2 * LIMIT_MB * MB}[stage]
    route = {"persistence": "/save", "transcription": "/transcribe"}[stage]
    with serve_in_thread(create_service_app(settings, stage)) as url:
        r, sent = _post_streaming(f"{url}{route}", {"X-Service-Token": token}, multipart=True)
    print(f"\n{stage} {route} (chunked, body limit {limit / MB:.0f} MB): {r.status_code} after "
          f"{sent.bytes / MB:.0f} MB of {SENT_MB} MB in {sent.seconds:.2f} s")
    assert r.status_code == 413, r.text[:500]
    assert r.json()["error"] == "file_too_large"
    assert sent.bytes < limit + 64 * MB
    assert _files(tmp_path / "data" / "tmp") == []
