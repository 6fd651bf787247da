"""`audiohub eval --reference-text` with the local analyzer: calls scored on their scripts (no
audio, no recogniser), and a manifest's new categories created in the run's prompt store, so a
call of a pair the library lacks is classified as it and its fields extracted with no code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from audiohub.cli import app

# A category the library does not have, as a person would POST it to /api/prompts.
GROOMING: dict[str, Any] = {
    "domain": "pets",
    "category": "grooming_booking",
    "description": "A pet owner calls a grooming salon to book a bath, haircut or nail trim "
                   "for their dog or cat.",
    "examples": ["I'd like to book my dog in for a haircut.",
                 "Can my cat get her nails trimmed on Friday?"],
    "fields": [
        {"name": "owner_name", "kind": "person", "said_by": "customer",
         "description": "the pet owner's full name", "cues": ["my name is", "under the name"]},
        {"name": "visit_date", "kind": "date", "description": "the day of the grooming visit"},
        {"name": "groom_service", "kind": "choice", "description": "what the pet is booked for",
         "choices": [{"value": "bath", "synonyms": ["wash"]}, "haircut", "nail trim"]},
    ],
}

CALLS = [
    {"id": "groom-1", "domain": "pets", "category": "grooming_booking",
     "reference": "Good afternoon, Fluffy Tails grooming salon. Hi, my name is Marta Kowalczyk "
                  "and I'd like to book my poodle in for a haircut. Sure, we have an opening "
                  "on Thursday the ninth. Thursday the ninth is perfect, thank you. Great, "
                  "please bring her vaccination record with you. Will do, bye.",
     "fields": {"owner_name": "Marta Kowalczyk", "visit_date": "Thursday the ninth",
                "groom_service": "haircut"},
     "outcome": "resolved", "action_items": ["bring her vaccination record with you"]},
    # A library pair, unlabelled for outcome and action items.
    {"id": "card-1", "domain": "banking", "category": "card_block",
     "reference": "Thank you for calling Elmfield Bank. Hello, I lost my debit card on the "
                  "bus this morning and I need to block it. I'm sorry to hear that, what is "
                  "your name? Oliver Grant. And the last four digits of the card? Six two "
                  "eight one. Thank you, the card ending in six two eight one is now blocked.",
     "fields": {"customer_name": "Oliver Grant", "card_last_four": "6281",
                "reason": "lost my debit card"}},
]


def _eval(tmp_path: Path, manifest: dict[str, Any], *args: str) -> Any:
    path = tmp_path / "m.json"
    path.write_text(json.dumps(manifest))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AUDIOHUB_DATA_DIR", str(tmp_path / "data"))
        return CliRunner().invoke(app, ["eval", str(path), *args])


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    # No call has audio: the scripts are all there is.
    result = _eval(tmp_path_factory.mktemp("eval"),
                   {"name": "text", "categories": [GROOMING], "items": CALLS},
                   "--reference-text", "--json")
    assert result.exit_code == 0, result.output
    out: dict[str, Any] = json.loads(result.stdout)
    return out


def test_the_script_is_the_transcript(report: dict[str, Any]) -> None:
    assert report["settings"]["input"] == "reference text"
    assert report["wer"] == 0.0
    assert all(c["wer"] == 0.0 for c in report["calls"])
    # Every expected value is in its script, so the analyzer's share is its recall.
    assert report["fields_heard"] == 1.0
    assert report["found_of_heard"] == report["field_recall"]


def test_a_new_category_is_classified_and_extracted_without_code(
        report: dict[str, Any]) -> None:
    groom, card = report["calls"]
    assert groom["got"] == "pets/grooming_booking"
    assert card["got"] == "banking/card_block"
    assert groom["fields_found"] >= 2, groom["missed"]
    assert card["fields_found"] >= 2, card["missed"]
    # Outcome and action items are scored on the one labelled call only.
    assert report["outcome_calls"] == 1 and report["action_calls"] == 1
    assert groom["outcome_ok"] is not None and card["outcome_ok"] is None


def test_every_reported_value_has_exact_evidence(report: dict[str, Any]) -> None:
    assert report["values_reported"] > 0
    assert report["evidence_exact"] == 1.0
    assert report["evidence_errors"] == 0


def test_an_invalid_category_is_refused_naming_its_part(tmp_path: Path) -> None:
    bad = {**GROOMING, "fields": [{"name": "visit_date", "kind": "calendar"}]}

    result = _eval(tmp_path, {"name": "bad", "categories": [bad], "items": CALLS[:1]},
                   "--reference-text")

    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "pets/grooming_booking" in said and "kind" in said


def test_a_category_the_library_has_is_refused(tmp_path: Path) -> None:
    taken = {**GROOMING, "domain": "banking", "category": "card_block"}

    result = _eval(tmp_path, {"name": "taken", "categories": [taken], "items": CALLS[1:]},
                   "--reference-text")

    assert result.exit_code == 2
    assert "banking/card_block is one the prompt library has" in " ".join(result.output.split())


def test_without_reference_text_the_audio_is_needed(tmp_path: Path) -> None:
    result = _eval(tmp_path, {"name": "text", "items": CALLS[1:]})

    assert result.exit_code == 2
    assert "call card-1 has no audio" in " ".join(result.output.split())
