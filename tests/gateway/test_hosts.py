"""The gateway answers only to the names it is reached by (ALLOWED_HOSTS): a page on another
site that re-points its own name at 127.0.0.1 (DNS rebinding) cannot read the calls."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from audiohub.config import Settings
from audiohub.gateway.app import create_app, host_allowed
from tests.conftest import make_settings
from tests.keys import authorize


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.delenv("ALLOWED_HOSTS")  # the default, not the suite's (tests/conftest.py)
    return make_settings(tmp_path / "data")


def test_the_default_answers_to_loopback_names_only(settings: Settings) -> None:
    app = create_app(settings)
    for base in ("http://localhost:8000", "http://127.0.0.1:8000", "http://[::1]:8000"):
        with TestClient(app, base_url=base) as client:
            assert authorize(client, "viewer").get("/api/stats").status_code == 200, base
    with TestClient(app, base_url="http://attacker.example:8000") as client:
        r = authorize(client, "admin").get("/api/calls")  # a key does not make the name right
        assert r.status_code == 400 and r.json()["error"] == "host_not_allowed"
        assert "ALLOWED_HOSTS" in r.json()["detail"]
        page = client.get("/ui/", headers={"accept": "text/html"})
        assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
        assert client.get("/health").status_code == 200  # probes name the pod's address


def test_allowed_hosts_names_more_and_wildcards() -> None:
    allowed = ["hub.example.org", "*.corp.example"]
    assert host_allowed("hub.example.org", allowed)
    assert host_allowed("HUB.example.org:443", allowed)
    assert host_allowed("calls.corp.example", allowed)
    assert not host_allowed("corp.example.attacker.io", allowed)
    assert not host_allowed("", allowed)
    assert host_allowed("anything:1", ["*"])
