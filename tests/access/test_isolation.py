"""An uploader reads only what it submitted; an analyst reads everything; a viewer cannot
upload and an uploader cannot read the totals. On SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audiohub.gateway.app import create_app
from tests.access.conftest import bearer, make_key, upload
from tests.conftest import make_settings


@dataclass
class Hub:
    client: TestClient
    keys: dict[str, str]        # "a", "b" (two uploaders), "analyst", "viewer"
    calls: dict[str, int]       # each uploader's call
    jobs: dict[str, str]        # each uploader's job

    def get(self, who: str, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=bearer(self.keys[who]), **kw)


def wait_done(hub: Hub, who: str, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job: dict[str, Any] = hub.get(who, f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not end in 120 s")


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory,
        module_database_url: str | None) -> Iterator[Hub]:
    """Uploader a's call and job are of one recording, uploader b's of another (a job of a
    recording analysed before reuses its call, so each job ends on its submitter's call)."""
    data = tmp_path_factory.mktemp("isolation") / "data"
    app = create_app(make_settings(data, module_database_url))
    with TestClient(app, follow_redirects=False) as client:
        access = app.state.access
        keys = {"a": make_key(access, "uploader")[1], "b": make_key(access, "uploader")[1],
                "analyst": make_key(access, "analyst")[1],
                "viewer": make_key(access, "viewer")[1]}
        hub = Hub(client, keys, {}, {})
        for who, name in (("a", "silence_5s.wav"), ("b", "tone_5s.wav")):
            r = upload(client, "/api/transcribe/", name, keys[who])
            assert r.status_code == 200, r.text
            hub.calls[who] = r.json()["database"]["call_id"]
            r = upload(client, "/api/jobs", name, keys[who])
            assert r.status_code == 202, r.text
            hub.jobs[who] = r.json()["job_id"]
            assert wait_done(hub, who, hub.jobs[who])["call_id"] == hub.calls[who]
        yield hub


@pytest.mark.parametrize(("me", "other"), [("a", "b"), ("b", "a")])
def test_an_uploader_reads_only_its_own(hub: Hub, me: str, other: str) -> None:
    mine, theirs = hub.calls[me], hub.calls[other]
    assert hub.get(me, f"/api/calls/{mine}").status_code == 200
    assert hub.get(me, f"/api/calls/{mine}/audio").status_code == 200
    assert hub.get(me, f"/api/jobs/{hub.jobs[me]}").status_code == 200
    # Someone else's is "not found", exactly as a call that does not exist.
    for path in (f"/api/calls/{theirs}", f"/api/calls/{theirs}/audio",
                 f"/api/jobs/{hub.jobs[other]}"):
        r = hub.get(me, path)
        assert r.status_code == 404, path
        assert r.json()["error"] == "not_found"
    assert hub.get(me, f"/ui/calls/{theirs}").status_code == 404
    assert hub.get(me, "/ui/jobs", params={"id": hub.jobs[other]}).status_code == 404
    calls = hub.get(me, "/api/calls").json()
    assert (calls["total"], [c["call_id"] for c in calls["items"]]) == (1, [mine])
    jobs = hub.get(me, "/api/jobs").json()
    assert (jobs["total"], [j["job_id"] for j in jobs["items"]]) == (1, [hub.jobs[me]])
    # Filters cannot widen the scope.
    assert hub.get(me, "/api/calls", params={"domain": "general"}).json()["total"] == 1


def test_an_analyst_reads_every_uploaders_calls_and_jobs(hub: Hub) -> None:
    for who in ("a", "b"):
        assert hub.get("analyst", f"/api/calls/{hub.calls[who]}").status_code == 200
        assert hub.get("analyst", f"/api/calls/{hub.calls[who]}/audio").status_code == 200
        assert hub.get("analyst", f"/api/jobs/{hub.jobs[who]}").status_code == 200
        assert hub.get("analyst", f"/ui/calls/{hub.calls[who]}").status_code == 200
    calls = hub.get("analyst", "/api/calls").json()
    assert {c["call_id"] for c in calls["items"]} == set(hub.calls.values())
    jobs = hub.get("analyst", "/api/jobs").json()
    assert {j["job_id"] for j in jobs["items"]} == set(hub.jobs.values())
    assert hub.get("analyst", "/api/stats").json()["total_calls"] == 2


def test_a_viewer_cannot_upload(hub: Hub) -> None:
    for path in ("/api/transcribe/", "/api/jobs"):
        r = upload(hub.client, path, "silence_5s.wav", hub.keys["viewer"])
        assert r.status_code == 403, path
        assert r.json()["error"] == "forbidden"
        assert "viewer" in r.json()["detail"] and "calls:upload" in r.json()["detail"]
    assert hub.get("viewer", "/api/calls").json()["total"] == 2  # and it reads every call
    assert hub.get("analyst", "/api/jobs").json()["total"] == 2  # nothing was queued


def test_an_uploader_cannot_read_the_totals(hub: Hub) -> None:
    r = hub.get("a", "/api/stats")
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden"
    assert hub.get("a", "/ui/stats").status_code == 403


def test_a_reused_recording_does_not_hand_over_another_uploaders_call(hub: Hub) -> None:
    """Uploader b sends the recording a sent: a job of audio analysed before reuses that call
    (deduplication), which must not give b the call a submitted, through the job's result."""
    r = upload(hub.client, "/api/jobs", "silence_5s.wav", hub.keys["b"])
    assert r.status_code == 202, r.text
    job = wait_done(hub, "b", r.json()["job_id"])
    assert job["status"] == "done"
    assert job["call_id"] != hub.calls["a"], "b's job ended on a's call"
    assert hub.get("b", f"/api/calls/{job['call_id']}").status_code == 200


def test_an_idempotency_key_is_each_submitters_own(hub: Hub) -> None:
    """The same Idempotency-Key from two uploaders makes two jobs: b never gets a's job id."""
    key = {"Idempotency-Key": "same-key-42"}
    ids: dict[str, str] = {}
    for who in ("a", "b"):
        for _ in range(2):  # sent twice by the same uploader: the first job again
            r = upload(hub.client, "/api/jobs", "tone_5s.wav", hub.keys[who], headers=key)
            assert r.status_code == 202, r.text
            assert ids.setdefault(who, r.json()["job_id"]) == r.json()["job_id"]
    assert ids["a"] != ids["b"]
    for who in ("a", "b"):
        assert wait_done(hub, who, ids[who])["status"] == "done"
        other = "b" if who == "a" else "a"
        assert hub.get(who, f"/api/jobs/{ids[other]}").status_code == 404
