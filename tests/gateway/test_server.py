"""`audiohub serve` as a real process on a loopback port, called the way the README shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import AUDIO
from tests.processes import Server, free_port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    env = {"AUDIOHUB_DATA_DIR": str(tmp_path / "data")}
    proc = Server("all", free_port(), env, tmp_path / "server.log")
    proc.env.pop("DATABASE_URL", None)
    try:
        yield proc.start(timeout=60).url
    finally:
        proc.stop()


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
