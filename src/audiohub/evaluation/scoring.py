"""How `audiohub eval` scores one call against its labels, and a set from its calls.

Field values are compared as ../taxonomy.md says (normalize.field_found). A set's shares are
pooled over its values (or items), not averaged over calls, so a call with many fields weighs more.
"""

from __future__ import annotations

import jiwer
from pydantic import BaseModel, Field

from audiohub.config import Settings
from audiohub.domain import CallResult, Evidence
from audiohub.evaluation.manifest import EvalItem, KeytermMode
from audiohub.evaluation.normalize import field_found, normalize_field, normalize_for_wer

# The line between a usable and a poor transcript: the review flags are scored on how
# well they pick out the calls above it.
HIGH_WER = 0.25
# The review reason extraction/confidence.py gives when a share of the speech is unreliable.
UNRELIABLE_REASON = "unreliable speech"


class ActionScore(BaseModel):
    """A call's action items against its labelled ones (each a phrase copied from the call).

    An expected item is found when its normalised text lies inside one reported item; a reported
    item is right when it holds at least one expected item.
    """

    expected: int
    found: int
    reported: int
    right: int


class CallScore(BaseModel):
    id: str
    wer: float
    reference_words: int
    expected: str
    got: str
    domain_ok: bool
    category_ok: bool
    fields_expected: int
    fields_found: int
    # Expected values found whole in the transcript: the rest were misheard before any
    # analysis, and no analyzer could return them whole.
    fields_heard: int
    missed: dict[str, str | None]
    evidence_errors: int
    needs_review: bool
    # Expected values both heard whole in the transcript and found: the analyzer's own share
    # is fields_found_heard / fields_heard.
    fields_found_heard: int = 0
    # Non-null values reported, and those that are the expected value (field_found); a value
    # for a field labelled null, or not labelled for the call's category at all, is wrong.
    values_reported: int = 0
    values_right: int = 0
    # The reported values that are not right, by field.
    wrong: dict[str, str] = Field(default_factory=dict)
    # Reported values whose evidence is grounded and slices the transcript exactly.
    evidence_exact: int = 0
    # The returned call_outcome against the labelled one; None when the call has no label.
    outcome_ok: bool | None = None
    outcome: str | None = None
    outcome_expected: str | None = None
    actions: ActionScore | None = None
    # Flagged for review because Whisper's own signals mark a share of its speech unreliable.
    unreliable: bool = False
    # Share of the VAD speech time covered by words; None when the recogniser gives no times.
    speech_coverage: float | None = None
    # Transcript spans replaced by a keyterm (transcription/vocabulary.py).
    corrections: int = 0
    # The keyterms this run gave the call (see --keyterms).
    keyterms: list[str] = Field(default_factory=list)


class FlagScore(BaseModel):
    """How well a review flag picks out the calls with WER above HIGH_WER.

    precision = caught / flagged, recall = caught / high_wer; None when its denominator is 0.
    """

    flagged: int
    high_wer: int
    caught: int
    precision: float | None
    recall: float | None


class EvalReport(BaseModel):
    name: str
    settings: dict[str, str]
    calls: list[CallScore]
    wer: float
    domain_accuracy: float
    category_accuracy: float
    field_recall: float
    # fields heard / fields expected: about the most any analyzer could recall from these
    # transcripts (a returned part of a longer value can still count, so recall may pass it).
    fields_heard: float
    evidence_errors: int
    # Expected values found among those heard whole: the analyzer's share apart from ASR.
    found_of_heard: float | None = None
    # Reported values that are right / reported, and how many were reported.
    precision: float | None = None
    values_reported: int = 0
    # Reported values with exact, grounded evidence / reported.
    evidence_exact: float | None = None
    # Over the calls labelled with an outcome (outcome_calls) or action items (action_calls).
    outcome_accuracy: float | None = None
    outcome_calls: int = 0
    action_recall: float | None = None
    action_precision: float | None = None
    action_calls: int = 0
    # Mean of the calls' speech_coverage over the calls that have one (speech_coverage_calls):
    # each call counts the same, whatever its length, since only the shares are reported.
    speech_coverage: float | None = None
    speech_coverage_calls: int = 0
    corrections: int = 0
    # The `unreliable` flag and `needs_review` as a whole, against WER > HIGH_WER.
    unreliable_flag: FlagScore | None = None
    review_flag: FlagScore | None = None


def ratio(part: int, whole: int) -> float | None:
    """part / whole to 4 places; None when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None


def score_flag(flags: list[bool], wers: list[float]) -> FlagScore:
    """Precision and recall of `flags` as a detector of the calls with WER above HIGH_WER."""
    high = [w > HIGH_WER for w in wers]
    flagged, n_high = sum(flags), sum(high)
    caught = sum(f and h for f, h in zip(flags, high, strict=True))
    return FlagScore(flagged=flagged, high_wer=n_high, caught=caught,
                     precision=ratio(caught, flagged), recall=ratio(caught, n_high))


def score_actions(expected: list[str], reported: list[str]) -> ActionScore:
    """Expected action items (verbatim phrases of the call) against the reported ones."""
    want = [e for e in map(normalize_field, expected) if e]
    got = [normalize_field(r) for r in reported]
    return ActionScore(
        expected=len(want),
        found=sum(any(e in r for r in got) for e in want),
        reported=len(got),
        right=sum(any(e in r for e in want) for r in got),
    )


def _exact(evidence: Evidence | None, text: str) -> bool:
    return (evidence is not None and evidence.grounded and evidence.char_start is not None
            and text[evidence.char_start:evidence.char_end] == evidence.text)


def score_call(item: EvalItem, result: CallResult,
               keyterms: list[str] | None = None) -> CallScore:
    ref, hyp = normalize_for_wer(item.reference), normalize_for_wer(result.transcription)
    expected = {k: v for k, v in item.fields.items() if v is not None}
    data, text = result.domain_specific_data, result.transcription
    found = {k for k, v in expected.items() if field_found(v, data.get(k))}
    heard = {k for k, v in expected.items() if field_found(v, text)}
    reported = {k: v for k, v in data.items() if v is not None}
    right = {k for k, v in reported.items() if k in expected and field_found(expected[k], v)}
    metrics = result.general_metrics
    # An ungrounded value counts as an evidence error: it is not shown to be in the call.
    bad_evidence = sum(not _exact(e, text) for e in result.evidence.values())
    bad_evidence += sum(1 for k in reported if k not in result.evidence)
    # Labels are read only where the call has them: unlabelled calls stay out of those figures.
    outcome_ok = None if item.outcome is None else metrics.call_outcome == item.outcome
    actions = (None if item.action_items is None
               else score_actions(item.action_items, list(metrics.action_items)))
    return CallScore(
        id=item.id,
        wer=jiwer.wer(ref, hyp) if ref else float(bool(hyp)),
        reference_words=len(ref.split()),
        expected=f"{item.domain}/{item.category}",
        got=f"{result.domain}/{result.category}",
        domain_ok=result.domain.lower() == item.domain.lower(),
        category_ok=result.category.lower() == item.category.lower(),
        fields_expected=len(expected),
        fields_found=len(found),
        fields_heard=len(heard),
        fields_found_heard=len(found & heard),
        missed={k: data.get(k) for k in expected if k not in found},
        values_reported=len(reported),
        values_right=len(right),
        wrong={k: v for k, v in reported.items() if k not in right},
        evidence_exact=sum(_exact(result.evidence.get(k), text) for k in reported),
        evidence_errors=bad_evidence,
        outcome_ok=outcome_ok,
        outcome=None if item.outcome is None else metrics.call_outcome,
        outcome_expected=item.outcome,
        actions=actions,
        needs_review=metrics.needs_review,
        unreliable=any(r.startswith(UNRELIABLE_REASON) for r in metrics.review_reasons),
        speech_coverage=metrics.speech_coverage,
        corrections=len(metrics.corrections),
        keyterms=keyterms or [],
    )


def summarize(name: str, settings: Settings, items: list[EvalItem], results: list[CallResult],
              keyterms: KeytermMode = KeytermMode.NONE,
              reference_text: bool = False) -> EvalReport:
    """The set's report from its calls' scores. `reference_text`: the calls were analysed on
    their scripts, with no recogniser."""
    scores = [score_call(i, r, i.terms_for(keyterms)) for i, r in zip(items, results, strict=True)]
    coverage = [s.speech_coverage for s in scores if s.speech_coverage is not None]
    wers = [s.wer for s in scores]
    refs = [normalize_for_wer(i.reference) for i in items]
    hyps = [normalize_for_wer(r.transcription) for r in results]
    n = len(scores) or 1
    expected = sum(s.fields_expected for s in scores)
    reported = sum(s.values_reported for s in scores)
    outcomes = [s.outcome_ok for s in scores if s.outcome_ok is not None]
    actions = [s.actions for s in scores if s.actions is not None]
    return EvalReport(
        name=name,
        settings={"input": "reference text" if reference_text else "audio",
                  "transcriber": "none" if reference_text else settings.transcriber,
                  "whisper_model": "-" if reference_text else settings.whisper.model,
                  "analyzer": settings.analysis.analyzer, "keyterms": keyterms.value},
        calls=scores,
        wer=round(jiwer.wer(refs, hyps), 4) if any(refs) else 0.0,
        domain_accuracy=round(sum(s.domain_ok for s in scores) / n, 4),
        category_accuracy=round(sum(s.category_ok for s in scores) / n, 4),
        field_recall=round(sum(s.fields_found for s in scores) / expected, 4) if expected else 1.0,
        fields_heard=round(sum(s.fields_heard for s in scores) / expected, 4) if expected else 1.0,
        found_of_heard=ratio(sum(s.fields_found_heard for s in scores),
                             sum(s.fields_heard for s in scores)),
        precision=ratio(sum(s.values_right for s in scores), reported),
        values_reported=reported,
        evidence_exact=ratio(sum(s.evidence_exact for s in scores), reported),
        evidence_errors=sum(s.evidence_errors for s in scores),
        outcome_accuracy=ratio(sum(outcomes), len(outcomes)),
        outcome_calls=len(outcomes),
        action_recall=ratio(sum(a.found for a in actions), sum(a.expected for a in actions)),
        action_precision=ratio(sum(a.right for a in actions), sum(a.reported for a in actions)),
        action_calls=len(actions),
        speech_coverage=round(sum(coverage) / len(coverage), 4) if coverage else None,
        speech_coverage_calls=len(coverage),
        corrections=sum(s.corrections for s in scores),
        unreliable_flag=score_flag([s.unreliable for s in scores], wers),
        review_flag=score_flag([s.needs_review for s in scores], wers),
    )
