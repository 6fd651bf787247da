"""Speakers end to end: a split stereo call through the API gets per-speaker metrics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audiohub.gateway.app import create_app
from tests.conftest import AUDIO, make_settings
from tests.keys import authorize


@pytest.fixture
def client(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.delenv("STEREO_AGENT_CHANNEL", raising=False)  # the default: agent on the left
    settings = make_settings(tmp_path / "data", database_url, max_upload_mb=2)
    with TestClient(create_app(settings)) as c:
        yield authorize(c, "analyst")


def post(client: TestClient, name: str, **params: Any) -> Any:
    with (AUDIO / name).open("rb") as f:
        r = client.post("/api/transcribe/", files={"file": (name, f)}, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_split_stereo_call_has_per_speaker_metrics(
    client: TestClient, manifest: dict[str, Any]
) -> None:
    body = post(client, manifest["calls"]["banking_card_block"]["files"]["split_8k"],
                segments="true")
    m = body["general_metrics"]

    assert set(m["speakers"]) == {"agent", "customer"}
    assert sum(s["talk_ratio"] for s in m["speakers"].values()) == pytest.approx(1.0, abs=1e-3)
    assert all(s["talk_time_seconds"] > 1.0 and s["words"] >= 5 for s in m["speakers"].values())
    assert isinstance(m["interruptions"], int)
    assert set(m["sentiment"]["speakers"]) == {"agent", "customer"}
    assert 0 < m["longest_silence_seconds"] < m["duration_seconds"]
    assert body["segments"][0]["speaker"] == "agent"
    assert body["segments"][0]["words"][0]["speaker"] == "agent"
    # Stored as returned: reading the call back gives the same speakers.
    stored = client.get(f"/api/calls/{body['database']['call_id']}").json()
    assert stored["general_metrics"]["speakers"] == m["speakers"]

