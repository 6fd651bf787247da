"""One line per eval report: `python eval/summary.py eval/results/*.json` (a Markdown table)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> None:
    print("| set | model | calls | WER | domain | category | field recall | values heard "
          "| evidence errors |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in sys.argv[1:]:
        r = json.loads(Path(name).read_text())
        print(f"| {r['name']} | {r['settings']['whisper_model']} | {len(r['calls'])} | "
              f"{r['wer']:.3f} | {r['domain_accuracy']:.3f} | {r['category_accuracy']:.3f} | "
              f"{r['field_recall']:.3f} | {r.get('fields_heard', float('nan')):.3f} | "
              f"{r['evidence_errors']} |")


if __name__ == "__main__":
    main()
