"""`audiohub serve` as a real process on a loopback port, called the way the README shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import AUDIO
from tests.processes import one_process


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with one_process(tmp_path / "data", tmp_path / "server.log", timeout=60) as url:
        yield url


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
