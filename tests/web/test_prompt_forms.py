"""The dashboard's "New category" form and the prompt editor's field kinds, over HTTP: the form
creates what POST /api/prompts creates, a bad field row is named on the page with what was typed
kept, only admins see the form, the editor shows guessed kinds for a person to confirm and
saving confirms them; the editor's field lines carry every hint of a field and read back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from audiohub.domain import CategorySpec, FieldSpec
from audiohub.errors import InvalidInputError
from audiohub.fieldspec import KINDS
from audiohub.gateway.app import create_app
from audiohub.gateway.hub import Hub
from audiohub.web.views import format_fields, parse_fields
from tests.conftest import make_settings
from tests.keys import authorize, new_key

# One row per field, as the form posts them (f_* repeated in row order); the last row blank.
ROWS = {
    "f_name": ["member_name", "freeze_reason", "membership_number", ""],
    "f_kind": ["person", "choice", "code", "text"],
    "f_said_by": ["customer", "either", "either", "either"],
    "f_description": ["the member's full name", "why they pause", "the card's number", ""],
    "f_cues": ["", "", "membership number; member number", ""],
    "f_choices": ["", "travel = abroad / trip; injury = hurt; cost", "", ""],
    "f_examples": ["", "", "my membership number is [GY4021]", ""],
}
FORM = {"domain": "fitness", "category": "membership_freeze",
        "description": "A gym member calls to pause or freeze their membership for a while.",
        "examples": "I'd like to freeze my gym membership.\nCan I pause my membership?",
        "prompt": "", "keyterms": "", **ROWS}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An admin's API key: a program, not a browser, so its forms need no CSRF token."""
    settings = make_settings(tmp_path_factory.mktemp("ui") / "data")
    with TestClient(create_app(settings)) as c:
        yield authorize(c, "admin")


def _hub(client: TestClient) -> Hub:
    hub: Hub = client.app.state.hub  # type: ignore[attr-defined]
    return hub


def test_the_new_category_form_creates_the_pair(client: TestClient) -> None:
    page = client.get("/ui/prompts/new")
    assert page.status_code == 200
    options = re.findall(r"<option[^>]*>([a-z_]+)</option>", page.text)
    assert set(KINDS) <= set(options)
    assert page.text.count('name="f_name"') == 8
    assert 'href="/ui/prompts/new"' in client.get("/ui/prompts").text

    r = client.post("/ui/prompts/new", data=FORM, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/ui/prompts/fitness/membership_freeze?saved=1"
    spec = _hub(client).prompts.get("fitness", "membership_freeze")
    assert spec is not None and (spec.version, spec.source) == (1, "edited")
    assert [(f.name, f.kind, f.said_by) for f in spec.fields] == [
        ("member_name", "person", "customer"), ("freeze_reason", "choice", "either"),
        ("membership_number", "code", "either")]
    reason, number = spec.fields[1], spec.fields[2]
    assert [(c.value, c.synonyms) for c in reason.choices] == [
        ("travel", ["abroad", "trip"]), ("injury", ["hurt"]), ("cost", [])]
    assert number.cues == ["membership number", "member number"]
    assert number.marked_examples() == [("my membership number is GY4021", "GY4021")]
    assert spec.examples == ["I'd like to freeze my gym membership.",
                             "Can I pause my membership?"]
    shown = client.get(r.headers["location"])
    assert "Saved as version 1" in shown.text and "inferred" not in shown.text

    # The same pair again: refused on the form, with the way to change it instead.
    again = client.post("/ui/prompts/new", data=FORM)
    assert again.status_code == 409
    assert "exists" in again.text and "/ui/prompts/fitness/membership_freeze" in again.text


def test_a_bad_field_row_is_named_and_what_was_typed_is_kept(client: TestClient) -> None:
    rows = {k: list(v) for k, v in ROWS.items()}
    rows["f_choices"][1] = ""  # a choice field without its choices
    rows["f_examples"][2] = "my number is GY4021"  # the value not in [brackets]
    form = {**FORM, "category": "membership_pause", **rows}
    r = client.post("/ui/prompts/new", data=form)
    assert r.status_code == 400
    error = re.search(r'role="alert">(.*?)</p>', r.text, re.S)
    assert error is not None
    assert "field row 2" in error.group(1) and "choices" in error.group(1)
    assert "field row 3, examples" in error.group(1) and "[brackets]" in error.group(1)
    assert 'value="membership_pause"' in r.text and 'value="my number is GY4021"' in r.text
    assert _hub(client).prompts.get("fitness", "membership_pause") is None

    bad_kind = client.post("/ui/prompts/new", data={**FORM, "category": "x1",
                                                    "f_kind": ["person", "colour", "code"]})
    assert bad_kind.status_code == 400 and "field row 2, kind" in bad_kind.text
    no_fields = client.post("/ui/prompts/new", data={**FORM, "category": "x2", "f_name": [],
                                                     "f_description": [], "f_cues": [],
                                                     "f_choices": [], "f_examples": []})
    assert no_fields.status_code == 400 and "fields" in no_fields.text


def test_only_admins_get_the_form(client: TestClient) -> None:
    access = client.app.state.access  # type: ignore[attr-defined]
    viewer = {"Authorization": f"Bearer {new_key(access, 'viewer')}"}
    assert client.get("/ui/prompts/new", headers=viewer).status_code == 403
    assert client.post("/ui/prompts/new", data={**FORM, "category": "x3"},
                       headers=viewer).status_code == 403
    assert 'href="/ui/prompts/new"' not in client.get("/ui/prompts", headers=viewer).text
    assert _hub(client).prompts.get("fitness", "x3") is None


def test_the_editor_shows_guessed_kinds_and_saving_confirms_them(client: TestClient) -> None:
    store = _hub(client).prompts
    store.create(CategorySpec(
        domain="shipping", category="parcel_pickup", description="A parcel is collected.",
        prompt="Extract the pickup.", source="edited", fields=[
            FieldSpec(name="pickup_date", kind="date", kind_inferred=True),
            FieldSpec(name="sender", kind="person")]))
    page = client.get("/ui/prompts/shipping/parcel_pickup")
    assert page.text.count("inferred — confirm") == 1
    assert "kinds to confirm" in client.get("/ui/prompts").text
    fields = re.search(r'<textarea name="fields"[^>]*>(.*?)</textarea>', page.text, re.S)
    assert fields is not None and "pickup_date [date]:" in fields.group(1)

    r = client.post("/ui/prompts/shipping/parcel_pickup", follow_redirects=False, data={
        "version": "1", "description": "A parcel is collected.", "prompt": "Extract it.",
        "fields": fields.group(1)})
    assert r.status_code == 303, r.text
    saved = store.get("shipping", "parcel_pickup")
    assert saved is not None and saved.version == 2
    assert [(f.kind, f.kind_inferred) for f in saved.fields] == [("date", False),
                                                                 ("person", False)]
    assert "inferred — confirm" not in client.get("/ui/prompts/shipping/parcel_pickup").text


def test_field_lines_carry_every_hint_and_read_back() -> None:
    text = ("seat [choice, customer]: where they sit | choices: aisle = corridor / end; window"
            " | cues: which seat\n"
            "name: who\n"
            "ref [code]: the booking code | examples: it's [AB12]; code [CD34] | length: 4"
            " | shape: AA99")
    fields = parse_fields(text, [FieldSpec(name="name", kind="person", kind_inferred=True)])
    seat, name, ref = fields
    assert (seat.kind, seat.said_by, seat.cues) == ("choice", "customer", ["which seat"])
    assert [(c.value, c.synonyms) for c in seat.choices] == [
        ("aisle", ["corridor", "end"]), ("window", [])]
    assert (name.kind, name.kind_inferred) == ("person", False)  # kept, and now confirmed
    assert (ref.length, ref.shape, len(ref.examples)) == (4, "AA99", 2)
    assert parse_fields(format_fields(fields), []) == fields
    for bad, says in [("x [colour]: y", "line 1 (x): kind"),
                      ("x: y\nz [choice]: w", "line 2 (z)"),
                      ("x: y | colour: red", "'colour: red' is not one of"),
                      ("x [code]: y | length: four", "length"),
                      ("x [text]: y | examples: no brackets", "[brackets]")]:
        with pytest.raises(InvalidInputError, match=re.escape(says)):
            parse_fields(bad, [])


def test_an_old_textarea_line_still_reads(tmp_path: Path) -> None:
    # The seed's `name: description` and the earlier `name [kind]: description`.
    assert [(f.name, f.kind) for f in parse_fields("a: b\nc [date]: d", [])] == [
        ("a", "text"), ("c", "date")]
