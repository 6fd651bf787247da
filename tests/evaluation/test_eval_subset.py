"""`audiohub eval` on a small subset of the tuning set, in CI: the floors are a little below what
the offline defaults measured on these calls (README, "Accuracy"); the full sets run with
`make eval`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audiohub.cli import app
from audiohub.config import Settings, WhisperSettings
from audiohub.evaluation.manifest import load_manifest
from audiohub.evaluation.runner import run_eval
from audiohub.evaluation.scoring import EvalReport

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "eval"))

import build  # noqa: E402

# The offline default, not the suite's faster tiny.en (tests/conftest.py): these floors are the
# default's.
DEFAULT_MODEL: str = WhisperSettings.model_fields["model"].default

SUBSET = {
    "healthcare-appointment_scheduling-1", "banking-card_block-2", "insurance-claim_filing-1",
    "telecom-technical_support-1", "ecommerce-refund_request-1", "travel-booking_change-1",
}


@pytest.fixture(scope="module")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build.build_set("tuning", tmp_path_factory.mktemp("eval"), only=SUBSET)


@pytest.fixture(scope="module")
def report_16k(manifests: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> EvalReport:
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"),
                        whisper=WhisperSettings(model=DEFAULT_MODEL))
    return run_eval(load_manifest(manifests["16k"]), settings)


def test_subset_16k_reaches_its_floor(report_16k: EvalReport) -> None:
    r = report_16k
    assert len(r.calls) == len(SUBSET)
    assert r.domain_accuracy >= FLOOR_16K["domain"], r.calls
    assert r.category_accuracy >= FLOOR_16K["category"], r.calls
    assert r.field_recall >= FLOOR_16K["fields"], [c.missed for c in r.calls]
    assert r.wer <= FLOOR_16K["wer"]
    assert r.evidence_errors == 0  # every evidence slices its transcript exactly


def test_cli_eval_prints_the_report_as_json(
    manifests: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDIOHUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WHISPER_MODEL", DEFAULT_MODEL)
    result = CliRunner().invoke(app, ["eval", str(manifests["8k"]), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["name"] == "tuning-8k"
    assert {"wer", "domain_accuracy", "category_accuracy", "field_recall", "fields_heard",
            "found_of_heard", "precision", "evidence_exact", "outcome_accuracy",
            "action_recall", "action_precision", "speech_coverage", "corrections",
            "unreliable_flag", "review_flag"} <= set(report)
    assert report["settings"]["input"] == "audio"
    # The tuning calls are labelled with outcome and action items.
    assert report["outcome_calls"] == report["action_calls"] == len(SUBSET)
    assert report["settings"]["keyterms"] == "none"
    assert all(c["keyterms"] == [] for c in report["calls"])
    assert report["evidence_errors"] == 0
    assert report["domain_accuracy"] >= FLOOR_8K["domain"]
    assert report["field_recall"] >= FLOOR_8K["fields"]


def test_cli_eval_gives_each_call_its_keyterms(
    manifests: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One call of the subset, whose labels name a person and a doctor.
    full = json.loads(manifests["16k"].read_text())
    (item,) = [i for i in full["items"] if i["id"] == "healthcare-appointment_scheduling-1"]
    one = manifests["16k"].with_name("one_16k.json")
    one.write_text(json.dumps({"name": "one", "items": [item]}))
    monkeypatch.setenv("AUDIOHUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WHISPER_MODEL", DEFAULT_MODEL)

    result = CliRunner().invoke(app, ["eval", str(one), "--json", "--keyterms", "call"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["settings"]["keyterms"] == "call"
    assert report["calls"][0]["keyterms"] == item["keyterms"] == ["Daniel Brooks", "Bennett"]
    assert report["calls"][0]["fields_expected"] == 5


def test_bad_manifest_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "m.json"
    bad.write_text('{"items": [{"id": "x", "audio": "missing.wav", "reference": "",'
                   ' "domain": "a", "category": "b"}]}')
    result = CliRunner().invoke(app, ["eval", str(bad)])
    assert result.exit_code == 2
    assert "not found" in result.output


# Measured on these six calls with the defaults (Whisper base, local analyzer), 2026-12-03 (the
# spec-driven field engine of issue 17): 16 kHz: domain 1.0, category 1.0, field recall 0.905
# (19 of 21), WER 0.122; 8 kHz: domain 1.0, category 0.83, fields 0.571. One value is 0.048.
# With the fitted text scorer and speaker model (issue 17, round 2) 8 kHz fields are 0.429 (9 of
# 21): the garbled 8 kHz text of two calls reads differently to them (README, "The field
# engine, second round"); on all 169 tuning calls at 16 kHz they gain 0.008.
FLOOR_16K = {"domain": 0.83, "category": 0.83, "fields": 0.85, "wer": 0.15}
FLOOR_8K = {"domain": 0.83, "fields": 0.40}
