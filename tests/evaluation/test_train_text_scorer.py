"""The text scorer's fitting (eval/train_text_scorer.py) on data of our own, and the weights the
analyzer ships."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from audiohub.extraction.backends.local import detect_text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "eval"))

import train_text_scorer as train  # noqa: E402


def test_a_span_gives_the_value_when_it_says_most_of_its_words() -> None:
    assert train.holds("swollen knee", "a swollen knee since Monday", limit=8)
    # Found by the eval's loose rule ("knee" is in "swollen knee"), but it does not say it.
    assert not train.holds("swollen knee", "knee", limit=8)
    assert not train.holds("swollen knee", "my knee has been swollen since the day I fell off "
                           "the ladder in the garden", limit=8)
    assert not train.holds("", "knee", limit=8)


def test_fit_ranks_the_right_span_first_and_scales_to_a_probability() -> None:
    rng = np.random.default_rng(1)
    groups = []
    for n in range(60):
        x = rng.normal(size=(12, 3))
        y = np.zeros(12)
        right = int(rng.integers(12))
        x[right, 0] += 3.0  # feature 0 marks the value; 1 and 2 are noise
        y[right] = 1.0
        groups.append(train.Group(f"call-{n}", x, y))

    w, b = train.fit(groups)

    assert w[0] > 5 * max(abs(w[1]), abs(w[2]))
    assert train.top1(groups, w, b) > 0.9
    best = [1 / (1 + np.exp(-((g.x @ w).max() + b))) for g in groups]
    assert 0.7 < float(np.mean(best)) <= 1.0


def test_the_shipped_weights_are_for_the_scorers_features() -> None:
    w, _ = detect_text._weights()
    assert len(w) == len(detect_text.FEATURES)
    names = dict(zip(detect_text.FEATURES, w, strict=True))
    # What the tuning calls taught, in the direction one would expect: like the field's example
    # values is good, made of the field's own words is not.
    assert names["example"] > 0 and names["own"] < 0
