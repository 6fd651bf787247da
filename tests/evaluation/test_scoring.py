"""Scoring by hand-built results: one call's score (what was found, what the transcript held to be
found at all, coverage, corrections, review flags) and a set's totals."""

from __future__ import annotations

from pathlib import Path

from audiohub.config import Settings
from audiohub.domain import CallResult, Correction, GeneralMetrics
from audiohub.evaluation.manifest import EvalItem, KeytermMode
from audiohub.evaluation.scoring import FlagScore, score_call, score_flag, summarize


def test_fields_heard_counts_expected_values_the_transcript_holds() -> None:
    item = EvalItem(id="c1", audio=Path("c1.wav"), reference="", domain="banking",
                    category="card_block",
                    fields={"customer_name": "Aoife Byrne",
                            "card_last_four": "seven zero three nine",
                            "reason": "lost in a taxi", "other": None})
    # Whisper misheard the name, so no analyzer could return it; the digits and the reason were
    # heard, and the analyzer found only the digits.
    result = CallResult.model_construct(
        transcription="Hi, it's Ethan Iron, my card got lost in a taxi. It ends in 7039.",
        domain="banking", category="card_block",
        domain_specific_data={"customer_name": "Ethan Iron", "card_last_four": "7039",
                              "reason": None},
        evidence={}, general_metrics=GeneralMetrics.model_construct(needs_review=False))

    score = score_call(item, result)

    assert (score.fields_expected, score.fields_heard, score.fields_found) == (3, 2, 1)
    assert score.missed == {"customer_name": "Ethan Iron", "reason": None}


def _call(id: str, wer_words: str, *, coverage: float | None = None, corrections: int = 0,
          reasons: tuple[str, ...] = ()) -> tuple[EvalItem, CallResult]:
    """A call whose reference is 'one two three four' and whose transcript is `wer_words`."""
    item = EvalItem(id=id, audio=Path(f"{id}.wav"), reference="one two three four",
                    domain="general", category="general_inquiry", keyterms=["Ada Lovelace"],
                    company_terms=["Fenwick Library"])
    fix = Correction.model_validate({"from": "a love lace", "to": "Ada Lovelace", "char_start": 0,
                                     "char_end": 12, "start": 0.5, "end": 1.4})
    metrics = GeneralMetrics.model_construct(
        needs_review=bool(reasons), review_reasons=list(reasons), speech_coverage=coverage,
        corrections=[fix] * corrections)
    result = CallResult.model_construct(
        transcription=wer_words, domain="general", category="general_inquiry",
        domain_specific_data={}, evidence={}, general_metrics=metrics)
    return item, result


UNRELIABLE = "unreliable speech: 40% of the speech time is in low-confidence segments"


def test_a_call_reports_its_coverage_corrections_and_flags() -> None:
    item, result = _call("c1", "one two three four", coverage=0.82, corrections=2,
                         reasons=(UNRELIABLE,))

    score = score_call(item, result, item.terms_for(KeytermMode.CALL))

    assert score.speech_coverage == 0.82
    assert score.corrections == 2
    assert score.unreliable and score.needs_review
    assert score.keyterms == ["Ada Lovelace"]


def test_only_the_unreliable_speech_reason_sets_the_unreliable_flag() -> None:
    item, result = _call("c1", "one two", reasons=("mean word probability 0.61 is under 0.7",))

    score = score_call(item, result)

    assert score.needs_review and not score.unreliable
    assert score.speech_coverage is None and score.corrections == 0 and score.keyterms == []


def test_a_set_reports_mean_coverage_and_both_flags_precision_and_recall(tmp_path: Path) -> None:
    calls = [
        # WER 0: flagged by a confidence reason only (a false alarm for needs_review).
        _call("ok-reviewed", "one two three four", coverage=1.0,
              reasons=("classification score 0.2 is under 0.3",)),
        # WER 0.5: caught by the unreliable flag.
        _call("poor-caught", "one two", coverage=0.6, corrections=1, reasons=(UNRELIABLE,)),
        # WER 0.75: missed by both flags; no coverage (no word times).
        _call("poor-missed", "one", coverage=None),
        # WER 0.25 exactly is not above the line: a false alarm of the unreliable flag.
        _call("edge", "one two three", coverage=0.8, corrections=2, reasons=(UNRELIABLE,)),
    ]
    items, results = [c[0] for c in calls], [c[1] for c in calls]

    report = summarize("set", Settings(data_dir=tmp_path), items, results, KeytermMode.COMPANY)

    assert [c.wer for c in report.calls] == [0.0, 0.5, 0.75, 0.25]
    assert report.settings["keyterms"] == "company"
    assert [c.keyterms for c in report.calls] == [["Fenwick Library"]] * 4
    # The mean of the three calls that have a coverage, not of four.
    assert report.speech_coverage == round((1.0 + 0.6 + 0.8) / 3, 4)
    assert report.speech_coverage_calls == 3
    assert report.corrections == 3
    # Unreliable flag: flagged {poor-caught, edge}; WER > 0.25: {poor-caught, poor-missed}.
    assert report.unreliable_flag == FlagScore(flagged=2, high_wer=2, caught=1, precision=0.5,
                                               recall=0.5)
    # needs_review: flagged {ok-reviewed, poor-caught, edge}.
    assert report.review_flag == FlagScore(flagged=3, high_wer=2, caught=1, precision=0.3333,
                                           recall=0.5)


def test_flag_scores_are_none_where_nothing_is_flagged_or_nothing_is_poor() -> None:
    assert score_flag([False, False], [0.1, 0.6]) == FlagScore(
        flagged=0, high_wer=1, caught=0, precision=None, recall=0.0)
    assert score_flag([True, False], [0.1, 0.2]) == FlagScore(
        flagged=1, high_wer=0, caught=0, precision=0.0, recall=None)
    assert score_flag([], []) == FlagScore(flagged=0, high_wer=0, caught=0, precision=None,
                                           recall=None)


def test_a_set_without_coverage_has_none(tmp_path: Path) -> None:
    item, result = _call("c1", "one two three four")

    report = summarize("set", Settings(data_dir=tmp_path), [item], [result])

    assert report.speech_coverage is None and report.speech_coverage_calls == 0
    assert report.settings["keyterms"] == "none"
    assert report.calls[0].keyterms == []
