"""Eval reports as Markdown: `python eval/summary.py eval/results/*.json`.

Two tables, one row per report each: the transcript and its review flags, then the analysis
(fields, found ÷ heard, precision, evidence, outcome and action items). Reports written before
issue 16 lack the keyterm mode, coverage, corrections and flag scores, and those before issue 17
the analysis figures: those cells read "-".
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def share(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def flag(score: dict[str, Any] | None) -> str:
    """precision / recall (caught/flagged, caught/high-WER calls)."""
    if not score:
        return "-"
    return (f"{share(score['precision'])} / {share(score['recall'])} "
            f"({score['caught']}/{score['flagged']}, {score['caught']}/{score['high_wer']})")


def source(r: dict[str, Any]) -> str:
    """What the analyzer read: the script, or the recogniser's transcript with its model."""
    s = r["settings"]
    return "text" if s.get("input") == "reference text" else str(s["whisper_model"])


def labelled(value: str, calls: int | None) -> str:
    """A figure over the calls that carry its label, with their count."""
    return "-" if not calls else f"{value} ({calls})"


def transcript_row(r: dict[str, Any]) -> str:
    return (f"| {r['name']} | {source(r)} | {r['settings'].get('keyterms', '-')} | "
            f"{len(r['calls'])} | {r['wer']:.3f} | {r['domain_accuracy']:.3f} | "
            f"{r['category_accuracy']:.3f} | {r['field_recall']:.3f} | "
            f"{r.get('fields_heard', float('nan')):.3f} | {r['evidence_errors']} | "
            f"{share(r.get('speech_coverage'))} | {r.get('corrections', '-')} | "
            f"{flag(r.get('unreliable_flag'))} | {flag(r.get('review_flag'))} |")


def analysis_row(r: dict[str, Any]) -> str:
    actions = (f"{share(r.get('action_recall'))} / {share(r.get('action_precision'))}")
    return (f"| {r['name']} | {source(r)} | {len(r['calls'])} | {r['category_accuracy']:.3f} | "
            f"{r['field_recall']:.3f} | {share(r.get('found_of_heard'))} | "
            f"{share(r.get('precision'))} | {share(r.get('evidence_exact'))} | "
            f"{labelled(share(r.get('outcome_accuracy')), r.get('outcome_calls'))} | "
            f"{labelled(actions, r.get('action_calls'))} |")


def main() -> None:
    reports = [json.loads(Path(name).read_text()) for name in sys.argv[1:]]
    print("| set | model | keyterms | calls | WER | domain | category | field recall "
          "| values heard | evidence errors | speech coverage | corrections "
          "| unreliable flag P / R | needs_review P / R |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in reports:
        print(transcript_row(r))
    print("\nspeech coverage: mean of the calls' shares; flags scored against WER > 0.25, "
          "as precision / recall (caught/flagged, caught/high-WER calls).\n")
    print("| set | input | calls | category | field recall | found ÷ heard | precision "
          "| evidence exact | outcome acc. (calls) | actions R / P (calls) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in reports:
        print(analysis_row(r))
    print("\ninput: the Whisper model, or text (the call's script, no recogniser). Outcome and "
          "action items are scored over the calls labelled with them (count in brackets).")


if __name__ == "__main__":
    main()
