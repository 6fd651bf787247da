"""`audiohub eval`: run the configured pipeline on labeled calls and score it like taxonomy.md."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import jiwer
from pydantic import BaseModel, Field

from audiohub.config import DatabaseSettings, Settings
from audiohub.domain import CallResult
from audiohub.evaluation.manifest import EvalItem, KeytermMode, Manifest
from audiohub.evaluation.normalize import field_found, normalize_for_wer
from audiohub.gateway.hub import build_hub

# The line between a usable and a poor transcript: the review flags are scored on how
# well they pick out the calls above it.
HIGH_WER = 0.25
# The review reason extraction/confidence.py gives when a share of the speech is unreliable.
UNRELIABLE_REASON = "unreliable speech"


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
    # Mean of the calls' speech_coverage over the calls that have one (speech_coverage_calls):
    # each call counts the same, whatever its length, since only the shares are reported.
    speech_coverage: float | None = None
    speech_coverage_calls: int = 0
    corrections: int = 0
    # The `unreliable` flag and `needs_review` as a whole, against WER > HIGH_WER.
    unreliable_flag: FlagScore | None = None
    review_flag: FlagScore | None = None


def score_flag(flags: list[bool], wers: list[float]) -> FlagScore:
    """Precision and recall of `flags` as a detector of the calls with WER above HIGH_WER."""
    high = [w > HIGH_WER for w in wers]
    flagged, n_high = sum(flags), sum(high)
    caught = sum(f and h for f, h in zip(flags, high, strict=True))
    return FlagScore(
        flagged=flagged, high_wer=n_high, caught=caught,
        precision=round(caught / flagged, 4) if flagged else None,
        recall=round(caught / n_high, 4) if n_high else None,
    )


def score_call(item: EvalItem, result: CallResult,
               keyterms: list[str] | None = None) -> CallScore:
    ref, hyp = normalize_for_wer(item.reference), normalize_for_wer(result.transcription)
    expected = {k: v for k, v in item.fields.items() if v is not None}
    found = {k for k, v in expected.items() if field_found(v, result.domain_specific_data.get(k))}
    text, metrics = result.transcription, result.general_metrics
    # An ungrounded value counts as an evidence error: it is not shown to be in the call.
    bad_evidence = sum(not e.grounded or text[e.char_start:e.char_end] != e.text
                       for e in result.evidence.values())
    bad_evidence += sum(1 for k, v in result.domain_specific_data.items()
                        if v is not None and k not in result.evidence)
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
        fields_heard=sum(field_found(v, result.transcription) for v in expected.values()),
        missed={k: result.domain_specific_data.get(k) for k in expected if k not in found},
        evidence_errors=bad_evidence,
        needs_review=metrics.needs_review,
        unreliable=any(r.startswith(UNRELIABLE_REASON) for r in metrics.review_reasons),
        speech_coverage=metrics.speech_coverage,
        corrections=len(metrics.corrections),
        keyterms=keyterms or [],
    )


def summarize(name: str, settings: Settings, items: list[EvalItem], results: list[CallResult],
              keyterms: KeytermMode = KeytermMode.NONE) -> EvalReport:
    scores = [score_call(i, r, i.terms_for(keyterms)) for i, r in zip(items, results, strict=True)]
    coverage = [s.speech_coverage for s in scores if s.speech_coverage is not None]
    wers = [s.wer for s in scores]
    refs = [normalize_for_wer(i.reference) for i in items]
    hyps = [normalize_for_wer(r.transcription) for r in results]
    n = len(scores) or 1
    expected = sum(s.fields_expected for s in scores)
    return EvalReport(
        name=name,
        settings={"transcriber": settings.transcriber, "whisper_model": settings.whisper.model,
                  "analyzer": settings.analysis.analyzer, "keyterms": keyterms.value},
        calls=scores,
        wer=round(jiwer.wer(refs, hyps), 4) if any(refs) else 0.0,
        domain_accuracy=round(sum(s.domain_ok for s in scores) / n, 4),
        category_accuracy=round(sum(s.category_ok for s in scores) / n, 4),
        field_recall=round(sum(s.fields_found for s in scores) / expected, 4) if expected else 1.0,
        fields_heard=round(sum(s.fields_heard for s in scores) / expected, 4) if expected else 1.0,
        evidence_errors=sum(s.evidence_errors for s in scores),
        speech_coverage=round(sum(coverage) / len(coverage), 4) if coverage else None,
        speech_coverage_calls=len(coverage),
        corrections=sum(s.corrections for s in scores),
        unreliable_flag=score_flag([s.unreliable for s in scores], wers),
        review_flag=score_flag([s.needs_review for s in scores], wers),
    )


def run_eval(manifest: Manifest, settings: Settings,
             progress: Callable[[EvalItem], None] | None = None,
             keyterms: KeytermMode = KeytermMode.NONE) -> EvalReport:
    """Analyse every call of the manifest with `settings`' backends and score the answers.

    `keyterms` picks the custom vocabulary each call is given (its own labelled terms, its
    company's, or none). Calls are stored in a throwaway database, never in the hub's own;
    models are the hub's.
    """
    with tempfile.TemporaryDirectory(prefix="audiohub-eval-") as tmp:
        scratch = settings.model_copy(update={
            "data_dir": Path(tmp), "model_dir": settings.models_dir.resolve(),
            "database": DatabaseSettings(url=None),
        })
        hub = build_hub(scratch)
        results: list[CallResult] = []
        try:
            hub.load_models()
            for item in manifest.items:
                # Eval audio is ours and may be long: no upload limit.
                results.append(hub.process_file(item.audio, limit=1 << 40,
                                                keyterms=item.terms_for(keyterms)))
                if progress:
                    progress(item)
        finally:
            hub.close()
    return summarize(manifest.name, settings, manifest.items, results, keyterms)
