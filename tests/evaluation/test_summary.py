"""The printed summaries: eval/summary.py's Markdown rows per report (old reports, before
issues 16 and 17, included) and `audiohub eval`'s table and totals."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from audiohub.config import Settings
from audiohub.domain import CallResult, GeneralMetrics
from audiohub.evaluation.manifest import EvalItem, KeytermMode
from audiohub.evaluation.render import print_report
from audiohub.evaluation.scoring import summarize

SUMMARY = Path(__file__).resolve().parents[2] / "eval" / "summary.py"


def _tables(*reports: Path) -> list[list[list[str]]]:
    """Each printed table's rows (header left out), each row its cells."""
    out = subprocess.run([sys.executable, str(SUMMARY), *map(str, reports)], check=True,
                         capture_output=True, text=True).stdout
    tables: list[list[list[str]]] = []
    for line in out.splitlines():
        if line.startswith("| set "):
            tables.append([])
        elif line.startswith("| "):
            tables[-1].append([cell.strip() for cell in line.strip("|").split("|")])
    return tables


def _rows(*reports: Path) -> list[list[str]]:
    return _tables(*reports)[0]


def test_new_and_old_reports_each_get_a_row(tmp_path: Path) -> None:
    item = EvalItem(id="c1", audio=Path("c1.wav"), reference="one two three four",
                    domain="general", category="general_inquiry", company_terms=["Fenwick"])
    metrics = GeneralMetrics.model_construct(
        needs_review=True, review_reasons=["unreliable speech: 50% of the speech"],
        speech_coverage=0.9)
    result = CallResult.model_construct(
        transcription="one two", domain="general", category="general_inquiry",
        domain_specific_data={}, evidence={}, general_metrics=metrics)
    new = tmp_path / "new.json"
    settings = Settings(data_dir=tmp_path)
    new.write_text(summarize("tuning-8k", settings, [item], [result],
                             KeytermMode.COMPANY).model_dump_json())
    old = tmp_path / "old.json"
    old.write_text(json.dumps({
        "name": "tuning-16k", "settings": {"whisper_model": "base"}, "calls": [{}, {}],
        "wer": 0.119, "domain_accuracy": 0.99, "category_accuracy": 0.979,
        "field_recall": 0.753, "fields_heard": 0.76, "evidence_errors": 0}))

    fresh, before = _rows(new, old)

    assert fresh[:5] == ["tuning-8k", settings.whisper.model, "company", "1", "0.500"]
    assert fresh[10:] == ["0.900", "0", "1.000 / 1.000 (1/1, 1/1)", "1.000 / 1.000 (1/1, 1/1)"]
    assert before[:5] == ["tuning-16k", "base", "-", "2", "0.119"]
    assert before[10:] == ["-", "-", "-", "-"]


def test_the_printed_report_shows_coverage_corrections_and_flags(tmp_path: Path) -> None:
    item = EvalItem(id="poor-call", audio=Path("c.wav"), reference="one two three four",
                    domain="general", category="general_inquiry")
    metrics = GeneralMetrics.model_construct(
        needs_review=True, review_reasons=["unreliable speech: 50% of the speech"],
        speech_coverage=0.75)
    result = CallResult.model_construct(
        transcription="one", domain="general", category="general_inquiry",
        domain_specific_data={}, evidence={}, general_metrics=metrics)
    report = summarize("set", Settings(data_dir=tmp_path), [item], [result], KeytermMode.CALL)
    out = Console(record=True, width=200)

    print_report(report, out)

    text = out.export_text()
    assert "poor-call" in text and "0.750" in text and "unreliable" in text
    assert "keyterms call" in text
    assert "speech coverage 0.750 (mean over 1 calls)  corrections 0" in text
    assert "unreliable flag: precision 1.000 (1/1 flagged), recall 1.000 (1/1 with WER > 0.25)" \
        in text


def test_the_analysis_table_shows_the_new_figures_and_dashes_for_old_reports(
        tmp_path: Path) -> None:
    item = EvalItem(id="c1", reference="my name is Ada Byrne", domain="general",
                    category="general_inquiry", fields={"caller_name": "Ada Byrne"},
                    outcome="resolved", action_items=["send the form"])
    metrics = GeneralMetrics.model_construct(
        needs_review=False, review_reasons=[], call_outcome="resolved",
        action_items=["we will send the form today", "call back"])
    result = CallResult.model_construct(
        transcription="my name is Ada Byrne", domain="general", category="general_inquiry",
        domain_specific_data={"caller_name": "Ada Byrne"}, evidence={}, general_metrics=metrics)
    new = tmp_path / "new.json"
    new.write_text(summarize("newcat-text", Settings(data_dir=tmp_path), [item], [result],
                             reference_text=True).model_dump_json())
    old = tmp_path / "old.json"
    old.write_text(json.dumps({
        "name": "tuning-16k", "settings": {"whisper_model": "base"}, "calls": [{}],
        "wer": 0.119, "domain_accuracy": 0.99, "category_accuracy": 0.979,
        "field_recall": 0.753, "fields_heard": 0.76, "evidence_errors": 0}))

    _, analysis = _tables(new, old)

    # The value is right but has no evidence: precision 1, evidence exact 0.
    assert analysis[0] == ["newcat-text", "text", "1", "1.000", "1.000", "1.000", "1.000",
                           "0.000", "1.000 (1)", "1.000 / 0.500 (1)"]
    assert analysis[1] == ["tuning-16k", "base", "1", "0.979", "0.753", "-", "-", "-", "-", "-"]
