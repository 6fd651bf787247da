"""MAX_AUDIO_MINUTES and hostile headers through the gateway of a real `audiohub serve all`
process: the issue's 10-hour FLAC (which once took the server from 593 MB to 5.6 GB) is refused
with 413 at a bounded peak RSS, measured on the server process; hostile headers are 415; and
nothing of a refused recording is kept, on /api/transcribe/ and on /api/jobs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import make_settings
from tests.keys import key_for
from tests.processes import Server, free_port
from tests.transcription.hostile_audio import (
    MB,
    PeakRss,
    hostile_wavs,
    lying_adts,
    silence_flac,
)


@dataclass
class Hub:
    url: str
    auth: dict[str, str]
    data_dir: Path
    rss: PeakRss

    def post(self, route: str, path: Path) -> httpx.Response:
        with path.open("rb") as f:
            return httpx.post(f"{self.url}{route}", files={"file": (path.name, f)},
                              headers=self.auth, timeout=120)

    def kept_files(self) -> list[Path]:
        """Recordings in the store and uploads left in the temp dir."""
        dirs = (self.data_dir / "audio", self.data_dir / "tmp", self.data_dir / "jobs" / "tmp")
        return [p for d in dirs if d.is_dir() for p in d.rglob("*") if p.is_file()]

    def calls(self) -> int:
        r = httpx.get(f"{self.url}/api/calls", headers=self.auth, timeout=30)
        assert r.status_code == 200, r.text
        total: int = r.json()["total"]
        return total


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hostile")
    made = {"bomb": silence_flac(root / "bomb.flac", 10 * 3600),
            # ADTS claiming minutes while holding 4 h 10 min: past the default cap of 240.
            "lying": lying_adts(root / "lying.aac", silence_s=250 * 60)}
    for name, data in hostile_wavs().items():
        (root / name).write_bytes(data)
        made[name] = root / name
    return made


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """`audiohub serve all` with its defaults (MAX_AUDIO_MINUTES 240), and an analyst's key."""
    root = tmp_path_factory.mktemp("limits")
    data = root / "data"
    key = key_for(make_settings(data), "analyst")
    server = Server("all", free_port(), {"AUDIOHUB_DATA_DIR": str(data)}, root / "server.log")
    server.env.pop("DATABASE_URL", None)
    server.env.pop("MAX_AUDIO_MINUTES", None)
    try:
        server.start(120)
        assert server.proc is not None
        yield Hub(server.url, {"Authorization": f"Bearer {key}"}, data, PeakRss(server.proc.pid))
    finally:
        server.stop()


def _refused(hub: Hub, route: str, path: Path) -> tuple[httpx.Response, float]:
    hub.rss.reset()
    start = time.monotonic()
    r = hub.post(route, path)
    return r, time.monotonic() - start


def test_ten_hour_flac_is_refused_within_seconds_at_bounded_memory(
        hub: Hub, files: dict[str, Path]) -> None:
    r, took = _refused(hub, "/api/transcribe/", files["bomb"])
    print(f"\n10 h FLAC ({files['bomb'].stat().st_size / MB:.1f} MB) -> {r.status_code} in "
          f"{took:.2f} s; server RSS {hub.rss.before / MB:.0f} MB before, peak "
          f"+{hub.rss.growth / MB:.1f} MB")
    assert r.status_code == 413, r.text
    body = r.json()
    assert body["error"] == "audio_too_long"
    assert "MAX_AUDIO_MINUTES (240 min)" in body["detail"]
    assert "header declares 600.0 min" in body["detail"]
    assert hub.rss.growth < 300 * MB
    assert hub.calls() == 0 and hub.kept_files() == []


def test_a_header_that_understates_is_stopped_at_the_cap(
        hub: Hub, files: dict[str, Path]) -> None:
    r, took = _refused(hub, "/api/transcribe/", files["lying"])
    print(f"\nADTS holding 250 min, claiming less -> {r.status_code} in {took:.2f} s; server "
          f"peak +{hub.rss.growth / MB:.1f} MB")
    assert r.status_code == 413, r.text
    assert r.json()["error"] == "audio_too_long"
    assert "decoding stopped after 240.0 min" in r.json()["detail"]
    assert hub.rss.growth < 300 * MB  # holding the 240 min would be 0.92 GB
    assert hub.calls() == 0 and hub.kept_files() == []


@pytest.mark.parametrize("name", sorted(hostile_wavs()))
def test_hostile_headers_are_415(hub: Hub, files: dict[str, Path], name: str) -> None:
    r, _ = _refused(hub, "/api/transcribe/", files[name])
    print(f"\n{name}: {r.status_code} {r.json()}, server peak +{hub.rss.growth / MB:.1f} MB")
    assert r.status_code == 415, r.text
    assert r.json()["error"] == "unsupported_audio"
    assert hub.rss.growth < 300 * MB
    assert hub.calls() == 0 and hub.kept_files() == []


def _ended(hub: Hub, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job: dict[str, Any] = httpx.get(f"{hub.url}/api/jobs/{job_id}", headers=hub.auth,
                                        timeout=30).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job['status']} after 60 s")


@pytest.mark.parametrize(("name", "error"), [("bomb", "audio_too_long"),
                                             ("rf64_petabytes.wav", "unsupported_audio")])
def test_a_job_with_such_a_recording_fails_and_keeps_nothing(
        hub: Hub, files: dict[str, Path], name: str, error: str) -> None:
    r, _ = _refused(hub, "/api/jobs", files[name])
    assert r.status_code == 202, r.text
    job = _ended(hub, r.json()["job_id"])
    print(f"\njob with {name}: {job['status']} {job['error']}, server peak "
          f"+{hub.rss.growth / MB:.1f} MB")
    assert job["status"] == "failed"
    assert job["error"]["error"] == error
    assert hub.rss.growth < 300 * MB
    assert hub.calls() == 0 and hub.kept_files() == []
