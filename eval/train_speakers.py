"""Fit the local analyzer's speaker model on the tuning calls' scripts.

    python eval/train_speakers.py [--folds 5] [--l2 0.3] [--write]

Each sentence of a tuning call (spaCy's sentences of the script, as the analyzer reads it) is a
row of `speakers.features`, labelled by the turn it is in: the agent's or the customer's. One L2
logistic regression is fitted by Newton's method. It prints the share of sentences it gets right
by cross-validation over calls (each fold fitted without its calls) beside the share the fit gets
on its own data, and with `--write` stores the weights in
src/audiohub/extraction/backends/local/speakers.json. Only the tuning set is read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import build  # noqa: E402

from audiohub.extraction.backends.local import speakers  # noqa: E402
from audiohub.extraction.backends.local.analyzer import _embedder  # noqa: E402
from audiohub.extraction.backends.local.dialogue import CallText  # noqa: E402
from audiohub.extraction.backends.local.embedded import embed_text  # noqa: E402
from audiohub.extraction.backends.local.nlp import load_spacy, parse  # noqa: E402

F64 = npt.NDArray[np.float64]
OUT = HERE.parent / "src" / "audiohub" / "extraction" / "backends" / "local" / "speakers.json"


def rows() -> tuple[F64, F64, npt.NDArray[np.int64]]:
    """Features, labels (1: the agent) and call numbers of every sentence of the tuning set."""
    nlp = load_spacy()
    xs, ys, calls = [], [], []
    for n, call in enumerate(build.load_calls(HERE / "calls" / "tuning.yaml")):
        turns = build.turns_of(call)
        text = " ".join(said for _, said in turns)  # as build.py writes the reference
        ends, pos = [], 0
        for who, said in turns:
            pos += len(said) + 1
            ends.append((pos, who))
        parsed = CallText(parse(nlp, text))
        asks = {i for i in range(len(parsed.sents)) if parsed.is_question(i)}
        vectors = embed_text(_embedder(), text).span_vectors(parsed.sents)
        xs.append(speakers.features(vectors, asks))
        ys += [next(who for end, who in ends if s < end) == "agent" for s, _ in parsed.sents]
        calls += [n] * len(parsed.sents)
    return (np.vstack(xs).astype(np.float64), np.array(ys, dtype=np.float64),
            np.array(calls, dtype=np.int64))


def fit(x: F64, y: F64, l2: float) -> tuple[F64, float]:
    """L2 logistic regression by Newton's method (the bias not shrunk)."""
    a = np.column_stack([x, np.ones(len(x))])
    ridge = l2 * np.eye(a.shape[1])
    ridge[-1, -1] = 0.0
    w = np.zeros(a.shape[1])
    for _ in range(30):
        p = 1 / (1 + np.exp(-(a @ w)))
        step = np.linalg.solve((a * (p * (1 - p))[:, None]).T @ a + ridge,
                               a.T @ (p - y) + ridge @ w)
        w -= step
        if np.abs(step).max() < 1e-7:
            break
    return w[:-1], float(w[-1])


def accuracy(x: F64, y: F64, w: F64, b: float) -> float:
    return float(((x @ w + b > 0) == (y > 0)).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--l2", type=float, default=0.3, help="the penalty on the weights")
    parser.add_argument("--write", action="store_true", help="store the weights")
    args = parser.parse_args()
    x, y, calls = rows()
    right = 0.0
    for k in range(args.folds):
        test = calls % args.folds == k
        w, b = fit(x[~test], y[~test], args.l2)
        right += accuracy(x[test], y[test], w, b) * test.sum()
    w, b = fit(x, y, args.l2)
    print(f"{len(y)} sentences of {calls.max() + 1} tuning calls, {y.mean():.2f} the agent's; "
          f"right: {accuracy(x, y, w, b):.3f} fitted, {right / len(y):.3f} by {args.folds}-fold "
          "cross-validation over calls")
    if args.write:
        OUT.write_text(json.dumps({
            "about": "Weights of the local analyzer's speaker model (speakers.py), fitted by "
                     "eval/train_speakers.py on the tuning calls' scripts.",
            "extra": list(speakers.EXTRA),
            "weights": [round(float(v), 5) for v in w],
            "bias": round(b, 5),
            "sentences": len(y),
        }) + "\n", encoding="utf-8")
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
