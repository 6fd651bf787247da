"""Render the labeled eval sets (eval/calls/*.yaml) to audio and write `audiohub eval` manifests.

    python eval/build.py [--out eval/out] [--sets tuning heldout] [--only ID ...]

For each set it writes <out>/<set>/16k/<id>.wav, the 8 kHz telephone-band copy
<out>/<set>/8k/<id>.wav, and the manifests <out>/<set>_16k.json and <out>/<set>_8k.json.
Rendering is deterministic and skipped for files that already exist. Needs espeak-ng and sox.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402


def load_calls(path: Path) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))["calls"]
    return calls


def turns_of(call: dict[str, Any]) -> list[tuple[str, str]]:
    return [(speaker, str(text)) for turn in call["turns"] for speaker, text in turn.items()]


def build_set(name: str, out: Path, only: set[str] | None = None) -> dict[str, Path]:
    calls = load_calls(HERE / "calls" / f"{name}.yaml")
    if only:
        calls = [c for c in calls if c["id"] in only]
    items: dict[str, list[dict[str, Any]]] = {"16k": [], "8k": []}
    for call in calls:
        turns = turns_of(call)
        wide = out / name / "16k" / f"{call['id']}.wav"
        phone = out / name / "8k" / f"{call['id']}.wav"
        if not wide.exists():
            wide.parent.mkdir(parents=True, exist_ok=True)
            synth.render_call(turns, wide)
        if not phone.exists():
            synth.telephone_copy(wide, phone)
        for rate, path in (("16k", wide), ("8k", phone)):
            items[rate].append({
                "id": call["id"],
                "audio": str(path.relative_to(out)),
                "reference": " ".join(text for _, text in turns),
                "domain": call["domain"],
                "category": call["category"],
                "fields": call["expected"],
                # For `audiohub eval --keyterms call|company`; labelled by the yaml's rule.
                "keyterms": call.get("keyterms") or [],
                "company_terms": call.get("company_terms") or [],
            })
    manifests = {}
    for rate, rows in items.items():
        path = out / f"{name}_{rate}.json"
        path.write_text(json.dumps({"name": f"{name}-{rate}", "items": rows}, indent=1) + "\n")
        manifests[rate] = path
    return manifests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--sets", nargs="+", default=["tuning", "heldout"])
    parser.add_argument("--only", nargs="*", help="render only these call ids")
    args = parser.parse_args()
    for name in args.sets:
        for rate, path in build_set(name, args.out, set(args.only or []) or None).items():
            print(f"{name} {rate}: {path}")


if __name__ == "__main__":
    main()
