"""The dashboard's keyterm inputs: the upload form's "Expected terms" (comma-separated, each
job keeps them) and the prompt editor's terms of a category (one per line, a new version)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audiohub.gateway.app import create_app
from tests.conftest import AUDIO, make_settings
from tests.keys import authorize

PROMPT = "/ui/prompts/healthcare/prescription_refill"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """An admin's API key: a program, not a browser, so its forms need no CSRF token."""
    with TestClient(create_app(make_settings(tmp_path / "data"))) as c:
        yield authorize(c, "admin")


def _ended(client: TestClient, job_id: str) -> dict[str, Any]:
    for _ in range(200):
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(job)


def test_the_upload_forms_expected_terms_go_with_each_job(client: TestClient) -> None:
    page = client.get("/ui/upload").text
    assert 'name="keyterms"' in page
    # Not audio, so each job fails at once: what matters is what it was accepted with.
    junk = (AUDIO / "not_audio.txt").read_bytes()
    r = client.post("/ui/upload", data={"keyterms": "Metro Bank, John Carter,metro bank"},
                    files=[("file", ("a.wav", junk)), ("file", ("b.wav", junk))],
                    follow_redirects=False)
    assert r.status_code == 303, r.text  # accepted: on to the jobs page
    jobs = client.get("/api/jobs").json()["items"]
    assert len(jobs) == 2
    for job in jobs:
        assert _ended(client, job["job_id"])["keyterms"] == ["Metro Bank", "John Carter"]
    bad = client.post("/ui/upload", data={"keyterms": "x" * 51},
                      files={"file": ("c.wav", junk)})
    assert bad.status_code == 400 and "longer than 50 characters" in bad.text
    assert client.get("/api/jobs").json()["total"] == 2


def test_the_prompt_editor_shows_and_saves_a_categorys_terms(client: TestClient) -> None:
    page = client.get(PROMPT).text
    assert '<textarea name="keyterms" rows="4">Lisinopril\nAtorvastatin\n' in page
    form = {"action": "save", "version": "1", "description": "Refills.",
            "prompt": "Extract the refill.", "fields": "medication: the medicine",
            "examples": "I need a refill", "keyterms": "Eliquis\n  Jardiance \n\neliquis"}
    r = client.post(PROMPT, data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    saved = client.get(PROMPT).text
    assert "Terms: Eliquis, Jardiance" in saved
    r = client.post(PROMPT, data={**form, "version": "2", "keyterms": "bad\x07term"})
    assert r.status_code == 400 and "control character" in r.text
