"""`audiohub serve` as a real process on a loopback port, called the way the README shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import AUDIO, make_settings
from tests.keys import key_for
from tests.processes import one_process


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """The server's URL, and the headers of an analyst's key made in its database first (as
    `audiohub keys create --role analyst` would)."""
    key = key_for(make_settings(tmp_path / "data"), "analyst")
    with one_process(tmp_path / "data", tmp_path / "server.log", timeout=60) as url:
        yield url, {"Authorization": f"Bearer {key}"}


def test_readme_curl_against_a_real_server(server: tuple[str, dict[str, str]]) -> None:
    url, auth = server
    with (AUDIO / "banking_card_block_8k.wav").open("rb") as f:
        r = httpx.post(f"{url}/api/transcribe/", files={"file": ("call.wav", f)}, headers=auth,
                       timeout=120)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["domain"] == "banking"
    call = httpx.get(f"{url}/api/calls/{body['database']['call_id']}", headers=auth).json()
    assert call == body
    assert httpx.get(f"{url}/api/calls/{body['database']['call_id']}").status_code == 401
    health = httpx.get(f"{url}/health", headers=auth).json()
    assert health["status"] == "healthy"
    assert "loaded" in health["services"]["transcription"]["detail"]
