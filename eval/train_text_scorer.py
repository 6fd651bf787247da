"""Fit the local analyzer's text-field scorer on the tuning calls' scripts.

    python eval/train_text_scorer.py [--folds 5] [--l2 1.0] [--write]

Every clause and noun phrase of a tuning call is a row of `detect_text.FEATURES` for each of the
call's `text` fields; it is a positive when it gives the field's expected value (`holds`). The
weights rank each field's spans and are scaled to a probability (`fit`). It prints the share of
fields whose best span gives the value, for the fit and by cross-validation over calls (each fold
fitted without its calls), and with `--write` stores the weights in
src/audiohub/extraction/backends/local/text_scorer.json. Only the tuning set is read: the
held-out and new-category sets are never used for fitting.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import build  # noqa: E402

from audiohub.config import DatabaseSettings, Settings  # noqa: E402
from audiohub.evaluation.manifest import load_manifest  # noqa: E402
from audiohub.evaluation.normalize import field_found  # noqa: E402
from audiohub.evaluation.runner import add_categories  # noqa: E402
from audiohub.extraction.backends.local import detect_text, disfluency  # noqa: E402
from audiohub.extraction.backends.local.dialogue import CallText  # noqa: E402
from audiohub.extraction.backends.local.nlp import load_spacy, parse  # noqa: E402
from audiohub.gateway.hub import build_hub  # noqa: E402

F64 = npt.NDArray[np.float64]
OUT = HERE.parent / "src" / "audiohub" / "extraction" / "backends" / "local" / "text_scorer.json"
# A span holding the value with this many more words is still the value said (an item with its
# colour, a reason with its "because"); a longer one is the whole turn.
EXTRA_WORDS = 6
# ... and it says at least this share of the value's words.
COVER = 0.6
L2 = 1.0


@dataclass
class Group:
    """One (call, field): its spans' features and which of them hold the expected value."""

    call: str
    x: F64
    y: F64


def groups() -> list[Group]:
    """Every `text` field of every tuning call (its category's spec, the new pairs created as
    the eval creates them), with its spans' features and labels."""
    with tempfile.TemporaryDirectory() as tmp:
        manifest = load_manifest(build.build_set("tuning", Path(tmp), text_only=True)["text"],
                                 need_audio=False)
        settings = Settings(data_dir=Path(tmp), database=DatabaseSettings(url=None))
        hub = build_hub(settings)
        try:
            add_categories(hub.parts.prompt_generator, manifest.categories)
            specs = {(s.domain, s.category): s for s in hub.parts.prompt_source.all()}
        finally:
            hub.close()
    nlp = load_spacy()
    out: list[Group] = []
    for item in manifest.items:
        spec = specs[(item.domain, item.category)]
        view = disfluency.clean(item.reference)
        call = CallText(parse(nlp, view.text))
        for field in spec.fields:
            if field.kind != "text" or field.name not in item.fields:
                continue
            expected = item.fields[field.name] or ""
            spans, x = detect_text.features(call, field)
            if not spans:
                continue
            limit = len(expected.split()) + EXTRA_WORDS
            y = [holds(expected, call.text[s:e], limit) for s, e in spans]
            out.append(Group(item.id, x.astype(np.float64), np.array(y, dtype=np.float64)))
    return out


def holds(expected: str, span: str, limit: int) -> bool:
    """Whether a span gives the expected value: the eval finds it there (`field_found`), and it
    says most of the value's words ("knee" is found in "sore knee" but does not say it) in not
    many more."""
    said = span.lower().split()
    words = set(expected.lower().split())
    return bool(expected) and field_found(expected, span) and len(said) <= limit \
        and len(words & set(said)) >= COVER * len(words)


def fit(gs: list[Group], l2: float = L2) -> tuple[F64, float]:
    """Weights that rank, within each field, the spans holding its value first, scaled so that
    the best span's probability says how often the best span is the value.

    The ranking is a conditional logit (a softmax over each field's spans; the likelihood of a
    field is the probability its positives get together) over the fields whose value some span
    holds, with an L2 penalty, fitted by gradient ascent with Adam. Then one logistic regression
    of "the best span holds the value" on the best span's score, over every field (a field the
    call never gives a value for counts as a miss), sets the scale and the bias."""
    ranked = [g for g in gs if g.y.any()]
    dim = gs[0].x.shape[1]
    w, m, v = np.zeros(dim), np.zeros(dim), np.zeros(dim)
    for step in range(1, 1501):
        grad = -l2 * w
        for g in ranked:
            s = g.x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            q = p * g.y
            q /= q.sum()
            grad += g.x.T @ (q - p)
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad * grad
        w += 0.05 * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    best = np.array([(g.x @ w).max() for g in gs])
    right = np.array([float(g.y[int(np.argmax(g.x @ w))] > 0) for g in gs])
    a = np.column_stack([best, np.ones(len(gs))])
    ab = np.zeros(2)
    for _ in range(100):  # Newton's method on (scale, bias), a little ridge for stability
        p = 1 / (1 + np.exp(-(a @ ab)))
        hess = (a * (p * (1 - p))[:, None]).T @ a + 1e-3 * np.eye(2)
        ab -= np.linalg.solve(hess, a.T @ (p - right) + 1e-3 * ab)
    return w * ab[0], float(ab[1])


def top1(gs: list[Group], w: F64, b: float) -> float:
    """The share of fields with a value whose best-scored span holds it."""
    ranked = [g for g in gs if g.y.any()]
    return sum(float(g.y[int(np.argmax(g.x @ w + b))] > 0) for g in ranked) / len(ranked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--l2", type=float, default=L2, help="the penalty on the weights")
    parser.add_argument("--write", action="store_true", help="store the weights")
    args = parser.parse_args()
    gs = groups()
    calls = sorted({g.call for g in gs})
    print(f"{len(gs)} text fields, {sum(g.y.any() for g in gs)} with a span holding their "
          f"value, in {len(calls)} tuning calls; {sum(len(g.y) for g in gs)} spans")
    rng = np.random.default_rng(0)
    fold = {c: i % args.folds for i, c in enumerate(rng.permutation(calls))}
    held = []
    for k in range(args.folds):
        train = [g for g in gs if fold[g.call] != k]
        test = [g for g in gs if fold[g.call] == k]
        w, b = fit(train, args.l2)
        held.append(top1(test, w, b) * sum(g.y.any() for g in test))
    w, b = fit(gs, args.l2)
    valued = sum(g.y.any() for g in gs)
    print(f"best span holds the value: {top1(gs, w, b):.3f} fitted, "
          f"{sum(held) / valued:.3f} by {args.folds}-fold cross-validation over calls")
    for name, value in zip(detect_text.FEATURES, w, strict=True):
        print(f"  {name:12s} {value:+.3f}")
    print(f"  {'bias':12s} {b:+.3f}")
    if args.write:
        OUT.write_text(json.dumps({
            "about": "Weights of the local analyzer's text-field scorer (detect_text.py), "
                     "fitted by eval/train_text_scorer.py on the tuning calls' scripts.",
            "features": list(detect_text.FEATURES),
            "weights": [round(float(v), 4) for v in w],
            "bias": round(b, 4),
            "fields": len(gs),
            "calls": len(calls),
        }, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
