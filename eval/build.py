"""Render the labeled eval sets (eval/calls/*.yaml) to audio and write `audiohub eval` manifests.

    python eval/build.py [--out eval/out] [--sets tuning heldout newcat] [--only ID ...]
                         [--text-only]

For each set it writes <out>/<set>/16k/<id>.wav, the 8 kHz telephone-band copy
<out>/<set>/8k/<id>.wav, and the manifests <out>/<set>_16k.json and <out>/<set>_8k.json.
Rendering is deterministic and skipped for files that already exist. Needs espeak-ng and sox.
With --text-only it renders nothing and writes <out>/<set>_text.json, a manifest without audio
for `audiohub eval --reference-text`.

A set's `categories` (new pairs, each the JSON body of POST /api/prompts) go into its
manifests as they are; each call's `outcome` and `action_items` labels go into its item.
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


def load_set(path: Path) -> dict[str, Any]:
    """A set file: its `calls` and, for a set of new categories, their `categories`."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def load_calls(path: Path) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = load_set(path)["calls"]
    return calls


def turns_of(call: dict[str, Any]) -> list[tuple[str, str]]:
    return [(speaker, str(text)) for turn in call["turns"] for speaker, text in turn.items()]


def item_of(call: dict[str, Any]) -> dict[str, Any]:
    """A call's manifest item, without its audio."""
    action_items = call.get("action_items")
    return {
        "id": call["id"],
        "reference": " ".join(text for _, text in turns_of(call)),
        "domain": call["domain"],
        "category": call["category"],
        "fields": call["expected"],
        # For `audiohub eval --keyterms call|company`; labelled by the yaml's rule.
        "keyterms": call.get("keyterms") or [],
        "company_terms": call.get("company_terms") or [],
        # None where the set does not label them; an empty list is a label (no action items).
        "outcome": call.get("outcome"),
        "action_items": None if action_items is None else [str(a) for a in action_items],
    }


def _write(path: Path, name: str, items: list[dict[str, Any]],
           categories: list[dict[str, Any]]) -> Path:
    manifest: dict[str, Any] = {"name": name, "items": items}
    if categories:
        manifest["categories"] = categories
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    return path


def build_set(name: str, out: Path, only: set[str] | None = None, text_only: bool = False,
              calls_dir: Path = HERE / "calls") -> dict[str, Path]:
    """Write the manifests of the set <calls_dir>/<name>.yaml (rendering its audio unless
    `text_only`); returns them by kind: "16k" and "8k", or "text"."""
    data = load_set(calls_dir / f"{name}.yaml")
    calls: list[dict[str, Any]] = data["calls"]
    categories: list[dict[str, Any]] = data.get("categories") or []
    if only:
        calls = [c for c in calls if c["id"] in only]
    if text_only:
        rows = [item_of(c) for c in calls]
        return {"text": _write(out / f"{name}_text.json", f"{name}-text", rows, categories)}
    items: dict[str, list[dict[str, Any]]] = {"16k": [], "8k": []}
    for call in calls:
        wide = out / name / "16k" / f"{call['id']}.wav"
        phone = out / name / "8k" / f"{call['id']}.wav"
        if not wide.exists():
            wide.parent.mkdir(parents=True, exist_ok=True)
            synth.render_call(turns_of(call), wide)
        if not phone.exists():
            synth.telephone_copy(wide, phone)
        for rate, path in (("16k", wide), ("8k", phone)):
            items[rate].append({**item_of(call), "audio": str(path.relative_to(out))})
    return {rate: _write(out / f"{name}_{rate}.json", f"{name}-{rate}", rows, categories)
            for rate, rows in items.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--sets", nargs="+", default=["tuning", "heldout", "newcat"])
    parser.add_argument("--only", nargs="*", help="render only these call ids")
    parser.add_argument("--text-only", action="store_true",
                        help="render no audio; write <set>_text.json for --reference-text")
    args = parser.parse_args()
    for name in args.sets:
        built = build_set(name, args.out, set(args.only or []) or None, args.text_only)
        for kind, path in built.items():
            print(f"{name} {kind}: {path}")


if __name__ == "__main__":
    main()
