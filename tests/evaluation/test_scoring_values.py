"""Issue 17's figures by hand-built results with known answers: found ÷ heard, precision of the
reported values, evidence exactness, outcome accuracy and action items, per call and per set."""

from __future__ import annotations

from pathlib import Path

from audiohub.config import Settings
from audiohub.domain import CallResult, Evidence, GeneralMetrics
from audiohub.evaluation.manifest import EvalItem
from audiohub.evaluation.scoring import ActionScore, score_actions, score_call, summarize

TEXT = "Hi, this is Ruth Okafor. My parcel 4471 came broken. Please refund it to my card."


def _span(value: str, text: str = TEXT) -> Evidence:
    start = text.index(value)
    return Evidence(text=value, char_start=start, char_end=start + len(value), start_s=None,
                    end_s=None)


def _item(**labels: object) -> EvalItem:
    base: dict[str, object] = {
        "id": "c1", "reference": TEXT, "domain": "ecommerce", "category": "refund_request",
        "fields": {"customer_name": "Ruth Okafor", "order_number": "4471",
                   "reason": "came broken", "refund_method": None, "product": "a lamp"}}
    return EvalItem.model_validate(base | labels)


def _result(data: dict[str, str | None], evidence: dict[str, Evidence],
            text: str = TEXT, **metrics: object) -> CallResult:
    general = GeneralMetrics.model_construct(needs_review=False, review_reasons=[], **metrics)
    return CallResult.model_construct(
        transcription=text, domain="ecommerce", category="refund_request",
        domain_specific_data=data, evidence=evidence, general_metrics=general)


def test_precision_counts_wrong_values_and_values_for_null_or_unlabelled_fields() -> None:
    result = _result(
        {"customer_name": "Ruth Okafor",   # right
         "order_number": "4417",           # not the expected value: wrong
         "reason": None,                   # not reported: neither right nor wrong
         "refund_method": "my card",       # labelled null: wrong
         "product": None,
         "colour": "broken"},              # not a field of the labelled category: wrong
        {"customer_name": _span("Ruth Okafor"), "refund_method": _span("my card"),
         "colour": _span("broken")})

    score = score_call(_item(), result)

    assert (score.values_reported, score.values_right) == (4, 1)
    assert score.wrong == {"order_number": "4417", "refund_method": "my card",
                           "colour": "broken"}
    # "a lamp" was never said, so it is not heard; of the three heard, one was found.
    assert (score.fields_expected, score.fields_heard, score.fields_found,
            score.fields_found_heard) == (4, 3, 1, 1)


def test_evidence_is_exact_only_when_grounded_and_slicing_the_transcript() -> None:
    off_by_one = Evidence(text="4471", char_start=TEXT.index("4471") + 1,
                          char_end=TEXT.index("4471") + 5, start_s=None, end_s=None)
    ungrounded = Evidence(text="came broken", char_start=None, char_end=None, start_s=None,
                          end_s=None, grounded=False)
    result = _result(
        {"customer_name": "Ruth Okafor", "order_number": "4471", "reason": "came broken",
         "refund_method": None, "product": "parcel"},
        # product has no evidence at all.
        {"customer_name": _span("Ruth Okafor"), "order_number": off_by_one,
         "reason": ungrounded})

    score = score_call(_item(), result)

    assert score.values_reported == 4
    assert score.evidence_exact == 1
    assert score.evidence_errors == 3


def test_outcome_and_action_items_are_scored_only_where_labelled() -> None:
    labelled = _item(outcome="follow_up_required",
                     action_items=["refund it to my card", "send a prepaid label"])
    result = _result({}, {}, call_outcome="resolved",
                     action_items=["Agent will refund it to my card within 5 days",
                                   "Customer to keep the receipt"])

    score = score_call(labelled, result)

    assert (score.outcome_ok, score.outcome, score.outcome_expected) == (
        False, "resolved", "follow_up_required")
    assert score.actions == ActionScore(expected=2, found=1, reported=2, right=1)
    # An unlabelled call reads neither figure (its metrics need not even carry them).
    bare = _result({}, {})
    plain = score_call(_item(), bare)
    assert plain.outcome_ok is None and plain.actions is None


def test_action_items_compare_normalised_text() -> None:
    # Case, punctuation and spelled-out numbers do not matter; a reported item that holds two
    # expected ones finds both and counts once as right.
    score = score_actions(["call back in two days", "Email the Form"],
                          ["We'll call back in 2 days and email the form.", "nothing else"])
    assert score == ActionScore(expected=2, found=2, reported=2, right=1)
    # Labelled "no action items": whatever is reported is wrong.
    assert score_actions([], ["book a visit"]) == ActionScore(expected=0, found=0, reported=1,
                                                              right=0)


def test_a_set_pools_its_values_and_counts_only_labelled_calls(tmp_path: Path) -> None:
    right = _result({"customer_name": "Ruth Okafor", "order_number": "4471", "reason": None,
                     "refund_method": None, "product": None},
                    {"customer_name": _span("Ruth Okafor"), "order_number": _span("4471")},
                    call_outcome="resolved", action_items=["refund it to my card"])
    # Misheard: the order number is not in this transcript, and one value is wrong.
    heard_wrong = "Hi, this is Ruth O'Connor. My parcel 4417 came broken."
    wrong = _result({"customer_name": "Ruth O'Connor", "order_number": None,
                     "reason": "came broken", "refund_method": None, "product": None},
                    {"customer_name": _span("Ruth O'Connor", heard_wrong),
                     "reason": _span("came broken", heard_wrong)},
                    text=heard_wrong, call_outcome="unresolved", action_items=[])
    unlabelled = _result({}, {})
    items = [_item(id="a", outcome="resolved", action_items=["refund it to my card"]),
             _item(id="b", outcome="resolved", action_items=["send a new one"]),
             _item(id="c")]

    report = summarize("set", Settings(data_dir=tmp_path), items, [right, wrong, unlabelled])

    # Expected 12 (4 per call); heard: 3 + 1 ("came broken") + 3; found: 2 + 1 + 0.
    assert report.field_recall == round(3 / 12, 4)
    assert report.found_of_heard == round(3 / 7, 4)
    assert (report.values_reported, report.precision) == (4, 0.75)
    assert report.evidence_exact == 1.0
    assert (report.outcome_calls, report.outcome_accuracy) == (2, 0.5)
    assert (report.action_calls, report.action_recall, report.action_precision) == (2, 0.5, 1.0)
    assert report.settings["input"] == "audio"


def test_a_set_with_nothing_to_divide_reports_none(tmp_path: Path) -> None:
    report = summarize("set", Settings(data_dir=tmp_path), [_item(fields={})],
                       [_result({}, {})], reference_text=True)

    assert report.found_of_heard is None and report.precision is None
    assert report.evidence_exact is None and report.outcome_accuracy is None
    assert report.action_recall is None and report.action_calls == 0
    assert report.settings["input"] == "reference text"
    assert report.wer == 0.0
