"""One line per eval report: `python eval/summary.py eval/results/*.json` (a Markdown table).

Reports written before issue 16 lack the keyterm mode, coverage, corrections and flag scores:
those cells read "-".
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


def main() -> None:
    print("| set | model | keyterms | calls | WER | domain | category | field recall "
          "| values heard | evidence errors | speech coverage | corrections "
          "| unreliable flag P / R | needs_review P / R |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in sys.argv[1:]:
        r = json.loads(Path(name).read_text())
        print(f"| {r['name']} | {r['settings']['whisper_model']} | "
              f"{r['settings'].get('keyterms', '-')} | {len(r['calls'])} | "
              f"{r['wer']:.3f} | {r['domain_accuracy']:.3f} | {r['category_accuracy']:.3f} | "
              f"{r['field_recall']:.3f} | {r.get('fields_heard', float('nan')):.3f} | "
              f"{r['evidence_errors']} | {share(r.get('speech_coverage'))} | "
              f"{r.get('corrections', '-')} | {flag(r.get('unreliable_flag'))} | "
              f"{flag(r.get('review_flag'))} |")
    print("\nspeech coverage: mean of the calls' shares; flags scored against WER > 0.25, "
          "as precision / recall (caught/flagged, caught/high-WER calls).")


if __name__ == "__main__":
    main()
