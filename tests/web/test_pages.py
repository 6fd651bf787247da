"""The dashboard's pages over HTTP, without a browser: the browser redirect at `/`, errors as
pages, refused cross-site forms, bad filters, empty states, and the transcript cut at evidence
spans that slice the stored transcription exactly."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from audiohub.config import Settings
from audiohub.domain import CallResult, CategorySpec, FieldSpec, Segment
from audiohub.gateway.app import create_app
from audiohub.web.views import call_view, transcript_lines
from tests.conftest import AUDIO, make_settings
from tests.keys import authorize

HTML = {"accept": "text/html,application/xhtml+xml"}
PASSWORD = "a long enough test password"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """An admin's API key: a program, not a browser, so its forms need no CSRF token."""
    with TestClient(create_app(settings)) as c:
        yield authorize(c, "admin")


def sign_in_as_a_browser(client: TestClient) -> str:
    """Drop the key and sign in through the login form with a new admin, as a browser does
    (a session cookie); returns the CSRF token the dashboard's forms carry."""
    client.headers.pop("Authorization")
    client.app.state.access.create_user("ada", PASSWORD, "admin", "tests")  # type: ignore[attr-defined]
    r = client.post("/ui/login", data={"username": "ada", "password": PASSWORD},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/ui/upload").text)
    assert found is not None
    return found.group(1)


def test_browsers_are_sent_to_the_dashboard_and_api_clients_keep_the_seed_json(
    client: TestClient,
) -> None:
    r = client.get("/", headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/"
    api = client.get("/")
    assert api.status_code == 200
    assert api.json()["message"] == "Audio Magic Hub API Gateway"
    assert client.get("/ui", follow_redirects=False).headers["location"] == "/ui/"


def test_empty_hub_says_what_to_do(client: TestClient) -> None:
    calls = client.get("/ui/")
    assert calls.status_code == 200 and "No calls yet" in calls.text
    assert "/ui/upload" in calls.text
    stats = client.get("/ui/stats")
    assert stats.status_code == 200 and "No calls yet" in stats.text


def test_errors_on_pages_are_pages_and_on_the_api_json(client: TestClient) -> None:
    page = client.get("/ui/calls/999")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Not found" in page.text and "no call with id 999" in page.text.lower()
    api = client.get("/api/calls/999")
    assert api.status_code == 404 and api.json()["error"] == "not_found"
    assert client.get("/ui/prompts/nope/nothing").status_code == 404


def test_bad_filters_get_a_400_page_naming_the_problem(client: TestClient) -> None:
    r = client.get("/ui/?since=2026-12-01&until=2026-11-01")
    assert r.status_code == 400 and "These filters cannot be used" in r.text
    r = client.get("/ui/?sort=bogus")
    assert r.status_code == 400 and "sort" in r.text


def test_a_form_from_another_site_changes_nothing(client: TestClient) -> None:
    # A signed-in browser's cookie goes along with any site's form: the origin is what tells.
    # The form even carries the page's own CSRF token, so only the origin refuses it.
    csrf = sign_in_as_a_browser(client)
    before = client.get("/ui/prompts/banking/card_block").text.count("<summary>Version")
    form = {"action": "save", "version": "1", "prompt": "Hijacked", "fields": "x: y",
            "csrf_token": csrf}
    r = client.post("/ui/prompts/banking/card_block", data=form,
                    headers={"origin": "http://evil.example"})
    assert r.status_code == 403 and "may not change this hub" in r.text
    r = client.post("/ui/prompts/banking/card_block", data=form,
                    headers={"sec-fetch-site": "cross-site"})
    assert r.status_code == 403
    r = client.post("/ui/prompts/banking/card_block", data=form,
                    headers={"referer": "http://evil.example/page"})
    assert r.status_code == 403
    after = client.get("/ui/prompts/banking/card_block").text
    assert after.count("<summary>Version") == before and "Hijacked" not in after
    r = client.post("/ui/upload", files={"file": ("a.wav", b"RIFF")},
                    params={"csrf_token": csrf}, headers={"origin": "http://evil.example"})
    assert r.status_code == 403
    assert client.get("/api/jobs").json()["total"] == 0
    # From the hub's own page, without the token: refused too; with it, saved.
    r = client.post("/ui/prompts/banking/card_block", data={**form, "csrf_token": ""},
                    headers={"origin": "http://testserver"})
    assert r.status_code == 403 and "CSRF" in r.text
    r = client.post("/ui/prompts/banking/card_block", data={**form, "prompt": "Mine"},
                    headers={"origin": "http://testserver"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    # Signed out, another site's form is refused before anything else is looked at.
    client.cookies.clear()
    r = client.post("/ui/prompts/banking/card_block", data=form,
                    headers={"origin": "http://evil.example"})
    assert r.status_code == 403


def test_upload_form_without_a_file_says_so(client: TestClient) -> None:
    r = client.post("/ui/upload", files={"file": ("", b"")})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/html")
    assert "choose at least one recording to upload" in r.text


def test_a_refused_file_is_listed_and_the_others_go_on(client: TestClient) -> None:
    call = AUDIO / "banking_card_block_16k.wav"
    r = client.post("/ui/upload", files=[("file", (call.name, call.read_bytes())),
                                         ("file", ("empty.wav", b""))])
    assert r.status_code == 202, r.text
    assert "Not accepted" in r.text and "empty.wav" in r.text
    assert "banking_card_block_16k.wav" in r.text
    assert 'http-equiv="refresh" content="2; url=/ui/jobs?id=' in r.text
    assert client.get("/api/jobs").json()["total"] == 1


def test_out_of_range_ids_are_refused_not_looked_up(client: TestClient) -> None:
    assert client.get(f"/ui/calls/{2**63}").status_code == 422
    assert client.get(f"/api/calls/{2**63}").status_code == 422
    assert client.get("/ui/", params={"offset": 2**63}).status_code == 400
    ids = [("id", f"{n:032x}") for n in range(51)]
    assert client.get("/ui/jobs", params=ids).status_code == 422


def test_a_prompt_edit_made_on_an_older_version_is_refused(client: TestClient) -> None:
    form = {"action": "save", "version": "1", "prompt": "First edit",
            "fields": "customer_name: who calls"}
    assert client.post("/ui/prompts/banking/card_block", data=form,
                       follow_redirects=False).status_code == 303
    stale = client.post("/ui/prompts/banking/card_block", data={**form, "prompt": "Stale"})
    assert stale.status_code == 409 and "is at version 2 now, not 1" in stale.text
    assert "Stale" not in client.get("/ui/prompts/banking/card_block").text
    # A library prompt is not the LLM's: there is nothing to approve.
    r = client.post("/ui/prompts/banking/fraud_report", data={"action": "approve",
                                                                "version": "1"})
    assert r.status_code == 400 and "nothing to approve" in r.text


def test_the_call_page_marks_exactly_the_evidence_spans(client: TestClient) -> None:
    name = "healthcare_appointment_16k.wav"
    with (AUDIO / name).open("rb") as f:
        r = client.post("/api/transcribe/", files={"file": (name, f)})
    assert r.status_code == 200, r.text
    call_id = r.json()["database"]["call_id"]
    result = CallResult.model_validate(client.get(f"/api/calls/{call_id}?segments=true").json())
    view = call_view(call_id, result)
    grounded = [v for v in view.values if v.number is not None]
    assert len(grounded) >= 2
    for v in grounded:
        assert v.evidence is not None
        text = " ".join(p.text for line in view.lines for p in line.pieces
                        if v.number in p.evidence)
        # The marked pieces, joined, are the evidence's slice of the transcription.
        assert v.evidence.char_start is not None and v.evidence.char_end is not None
        exact = result.transcription[v.evidence.char_start:v.evidence.char_end]
        assert exact == v.evidence.text
        assert text.replace(" ", "") == exact.replace(" ", "")
    # The transcript is shown whole: the pieces put back together are the transcription.
    assert " ".join("".join(p.text for p in line.pieces)
                    for line in view.lines) == result.transcription
    page = client.get(f"/ui/calls/{call_id}")
    assert page.status_code == 200
    for v in grounded:
        assert f'id="ev-{v.number}"' in page.text
        assert f'href="#ev-{v.number}"' in page.text


def test_a_generated_prompt_is_listed_for_review_and_approved_as_a_new_version(
    client: TestClient,
) -> None:
    # What an LLM backend saves for a pair outside the library (see prompts/generation.py).
    hub = client.app.state.hub  # type: ignore[attr-defined]
    hub.prompts.save(CategorySpec(
        domain="pets", category="vet_visit", description="A pet owner books a vet visit.",
        prompt="Extract the pet's name.", fields=[FieldSpec(name="pet_name")],
        source="generated"))
    listing = client.get("/ui/prompts").text
    assert "1 prompt written by the LLM" in listing and "generated · review" in listing
    page = client.get("/ui/prompts/pets/vet_visit").text
    assert "Approve this version as it is" in page
    r = client.post("/ui/prompts/pets/vet_visit", data={"action": "approve", "version": "1"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?saved=2")
    after = client.get(r.headers["location"]).text
    assert "Saved as version 2" in after and "Version 2 · approved" in after
    assert "Approve this version" not in after
    assert "generated · review" not in client.get("/ui/prompts").text


def test_every_evidence_span_gets_its_anchor_wherever_it_begins() -> None:
    # "Hi there." + " " + "Card 4567 please." : span 1 starts on the joining space, span 2
    # crosses into the second segment, span 3 overlaps span 2.
    segments = [Segment(id=0, start=0, end=1, text="Hi there."),
                Segment(id=1, start=1, end=2, text="Card 4567 please.")]
    text = "Hi there. Card 4567 please."
    spans = {1: (9, 14), 2: (3, 19), 3: (15, 19)}
    lines = transcript_lines(text, segments, spans)
    anchors = [n for line in lines for p in line.pieces for n in p.starts]
    assert sorted(anchors) == [1, 2, 3]  # each once
    for n, (a, b) in spans.items():
        marked = "".join(p.text for line in lines for p in line.pieces if n in p.evidence)
        assert marked.replace(" ", "") == text[a:b].replace(" ", "")
