"""Eval manifests carry each call's keyterms, and the labels in eval/calls follow their rule."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from audiohub.errors import InvalidInputError
from audiohub.evaluation.manifest import KeytermMode, load_manifest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "eval"))

import build  # noqa: E402

WAV = ROOT / "tests" / "fixtures" / "audio"


def _write(tmp_path: Path, items: list[dict[str, Any]]) -> Path:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"name": "m", "items": items}))
    return path


def test_keyterms_and_company_terms_are_read_and_optional(tmp_path: Path) -> None:
    audio = next(WAV.glob("*.wav"))
    base = {"audio": str(audio), "reference": "hello", "domain": "general",
            "category": "general_inquiry"}
    path = _write(tmp_path, [
        {"id": "labelled", **base, "keyterms": ["Aoife Byrne", "salbutamol"],
         "company_terms": ["Kestrel Savings"]},
        {"id": "plain", **base},
    ])

    labelled, plain = load_manifest(path).items

    assert labelled.terms_for(KeytermMode.CALL) == ["Aoife Byrne", "salbutamol"]
    assert labelled.terms_for(KeytermMode.COMPANY) == ["Kestrel Savings"]
    assert labelled.terms_for(KeytermMode.NONE) == []
    assert (plain.keyterms, plain.company_terms) == ([], [])
    assert plain.terms_for(KeytermMode.CALL) == []


def test_keyterms_must_be_a_list_of_strings(tmp_path: Path) -> None:
    path = _write(tmp_path, [{"id": "x", "audio": "a.wav", "reference": "", "domain": "a",
                              "category": "b", "keyterms": "Aoife Byrne"}])
    with pytest.raises(InvalidInputError, match="not a readable eval manifest"):
        load_manifest(path)


def test_build_puts_the_labels_into_the_manifest(tmp_path: Path) -> None:
    call = "banking-card_block-1"
    manifests = build.build_set("tuning", tmp_path, only={call})

    for path in manifests.values():
        (item,) = json.loads(path.read_text())["items"]
        assert item["keyterms"] == ["Megan Foster"]
        assert item["company_terms"] == ["Harbor Bank"]


@pytest.mark.parametrize("name", ["tuning", "heldout"])
def test_labels_follow_the_rule(name: str) -> None:
    """Every keyterm is written in one of the call's expected values, every company term in one
    of its agent's turns; no digits. (Failures name the call only: held-out text stays unread.)"""
    calls = yaml.safe_load((ROOT / "eval" / "calls" / f"{name}.yaml").read_text())["calls"]
    for call in calls:
        expected = " ".join(str(v) for v in call["expected"].values() if v).lower()
        agent = " ".join(str(t["agent"]) for t in call["turns"] if "agent" in t).lower()
        keyterms, company = call["keyterms"], call["company_terms"]
        assert all(t.lower() in expected for t in keyterms), call["id"]
        assert all(t.lower() in agent for t in company), call["id"]
        assert not any(ch.isdigit() for t in keyterms + company for ch in t), call["id"]
    # The labels are there to be used: most calls name their company, many a person or place.
    assert sum(bool(c["company_terms"]) for c in calls) >= 0.9 * len(calls)
    assert sum(bool(c["keyterms"]) for c in calls) >= 0.4 * len(calls)


def test_text_only_build_writes_labels_and_no_audio(tmp_path: Path) -> None:
    manifests = build.build_set("tuning", tmp_path, only={"healthcare-appointment_scheduling-1"},
                                text_only=True)

    assert set(manifests) == {"text"}
    assert not list(tmp_path.glob("**/*.wav"))
    (item,) = load_manifest(manifests["text"], need_audio=False).items
    assert item.audio is None
    assert item.outcome == "resolved"
    assert item.action_items == ["come ten minutes early to check in"]
    assert item.reference.startswith("Good morning, Riverside Family Clinic")
    # Without audio the manifest is for reference-text runs only.
    with pytest.raises(InvalidInputError, match="has no audio"):
        load_manifest(manifests["text"])


def test_a_set_with_new_categories_puts_them_in_its_manifest(tmp_path: Path) -> None:
    category = {"domain": "pets", "category": "grooming_booking",
                "description": "Booking a dog or cat in for grooming",
                "fields": [{"name": "pet_name", "kind": "person",
                            "description": "the pet's name"}]}
    calls = {"categories": [category], "calls": [
        {"id": "pets-1", "domain": "pets", "category": "grooming_booking",
         "turns": [{"agent": "Paws and Suds, how can I help?"},
                   {"customer": "I'd like a wash and trim for my spaniel Pickle."}],
         "expected": {"pet_name": "Pickle"}, "action_items": []}]}
    (tmp_path / "pets.yaml").write_text(yaml.safe_dump(calls))

    built = build.build_set("pets", tmp_path / "out", text_only=True, calls_dir=tmp_path)

    manifest = load_manifest(built["text"], need_audio=False)
    assert manifest.categories == [category]
    (item,) = manifest.items
    # Not labelled with an outcome; labelled with no action items.
    assert item.outcome is None and item.action_items == []
