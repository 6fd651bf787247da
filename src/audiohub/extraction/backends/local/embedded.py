"""A call's text through MiniLM once, shared by the classifier and the text-field detectors.

The classifier embeds each sentence of the call; detect_text needs a vector for each of its ~30
clauses and noun phrases. Embedding those as texts of their own was a second pass over the call,
as costly as the first. Here each span's vector is the mean of its word pieces' states in the
sentence pass instead (sentence-transformers' pooling, restricted to the span), which scored the
tuning set's text fields the same within noise (top-1 0.571 vs 0.582, top-3 0.765 vs 0.786) and
costs no forward pass. The pass is remembered per text, like `nlp.parse`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from audiohub.extraction.backends.local.embedder import MiniLMEmbedder, TokenStates

F32 = npt.NDArray[np.float32]
Span = tuple[int, int]

# MiniLM reads at most 256 word pieces: a longer unpunctuated stretch is cut into pieces.
_MAX_PIECE_WORDS = 100
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class EmbeddedText:
    """One text embedded piece by piece (its sentences, long ones cut).

    Attributes:
        text: The text.
        pieces: Each piece's [start, end) characters in `text`.
        vectors: (pieces, dim) unit rows, what `MiniLMEmbedder.encode` gives for each piece.
    """

    text: str
    pieces: list[Span]
    vectors: F32
    # The word pieces' states and their characters in `text`, in text order, markers dropped.
    _states: F32 = field(repr=False)
    _starts: npt.NDArray[np.int64] = field(repr=False)
    _ends: npt.NDArray[np.int64] = field(repr=False)
    _embedder: MiniLMEmbedder = field(repr=False)

    def span_vectors(self, spans: Sequence[Span]) -> F32:
        """Unit vectors of `text[s:e]` for each span: the mean of the states of the word pieces
        inside it. A span with no word piece inside (past a truncated piece) is embedded alone.

        Args:
            spans: [start, end) characters of `text`.

        Returns:
            (len(spans), dim) float32 unit rows.
        """
        out = np.zeros((len(spans), self._embedder.dim), dtype=np.float32)
        alone: list[int] = []
        for k, (s, e) in enumerate(spans):
            # Word pieces are in text order, so those inside [s, e) are one run of rows.
            lo = int(np.searchsorted(self._starts, s, side="left"))
            hi = int(np.searchsorted(self._ends, e, side="right"))
            if lo < hi:
                out[k] = self._states[lo:hi].mean(axis=0)
            else:
                alone.append(k)
        if alone:
            out[alone] = self._embedder.encode([self.text[slice(*spans[k])] for k in alone])
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), np.float32(1e-12))
        return out


def pieces(text: str) -> list[Span]:
    """The text's sentences, any too long for the model cut every 100 words, as character
    spans from a sentence's first word to its last (the whole text when it has no word)."""
    out: list[Span] = []
    start = 0
    for end in [m.start() for m in _SENTENCE_END.finditer(text)] + [len(text)]:
        words = [m.span() for m in _WORD.finditer(text, start, end)]
        out.extend((words[i][0], words[min(i + _MAX_PIECE_WORDS, len(words)) - 1][1])
                   for i in range(0, len(words), _MAX_PIECE_WORDS))
        start = end
    return out or [(0, len(text))]


@functools.lru_cache(maxsize=4)
def embed_text(embedder: MiniLMEmbedder, text: str) -> EmbeddedText:
    """The text embedded piece by piece, remembered: the classifier and the field detectors
    read the same call. Callers must not modify the returned arrays.

    Args:
        embedder: The MiniLM encoder.
        text: A call's text.

    Returns:
        Its pieces, their vectors and what pools any span of it.
    """
    spans = pieces(text)
    ts: TokenStates = embedder.encode_tokens([text[s:e] for s, e in spans])
    # Each piece's word-piece characters are relative to the piece: shift them into the text.
    shift = np.repeat([s for s, _ in spans], np.diff(ts.bounds)) if spans else np.zeros(0, int)
    words = ts.chars[:, 0] >= 0
    return EmbeddedText(text=text, pieces=spans, vectors=ts.pooled,
                        _states=ts.states[words], _starts=(ts.chars[:, 0] + shift)[words],
                        _ends=(ts.chars[:, 1] + shift)[words], _embedder=embedder)
