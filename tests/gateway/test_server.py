"""`audiohub serve` as a real process on a loopback port, called the way the README shows."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import AUDIO


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "AUDIOHUB_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1"}
    env.pop("DATABASE_URL", None)
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "audiohub.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            pytest.fail("server did not become healthy in 60 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_readme_curl_against_a_real_server(server: str) -> None:
    with (AUDIO / "banking_card_block_8k.wav").open("rb") as f:
        r = httpx.post(f"{server}/api/transcribe/", files={"file": ("call.wav", f)}, timeout=120)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["domain"] == "banking"
    call = httpx.get(f"{server}/api/calls/{body['database']['call_id']}").json()
    assert call == body
    health = httpx.get(f"{server}/health").json()
    assert health["status"] == "healthy"
    assert "loaded" in health["services"]["transcription"]["detail"]
