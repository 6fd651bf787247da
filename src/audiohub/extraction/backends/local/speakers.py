"""Who says each sentence of a mono call, the agent or the customer.

A transcript of one channel has no speaker labels. Each sentence is read by one logistic model
over what it says and where it stands: its MiniLM vector, the difference between the sentences
before and after it (a reply follows what it answers), whether it and the one before it ask
something, and its place in the call. The weights (speakers.json) are fitted on the tuning calls'
scripts, whose turns say who speaks, by `eval/train_speakers.py`: 0.84 of sentences right by
cross-validation over calls, where the rules on agents' phrases it replaces got 0.65.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from audiohub.errors import BackendUnavailableError

F32 = npt.NDArray[np.float32]
Span = tuple[int, int]

_WEIGHTS = Path(__file__).with_name("speakers.json")
# After the sentence's vector and its neighbours' difference, in this order.
EXTRA = ("asks", "after_a_question", "position", "first")


def features(vectors: F32, asks: Collection[int]) -> F32:
    """One row per sentence: its vector, the vector before it less the one after it (zeros past
    either end), then `EXTRA`."""
    n, dim = vectors.shape
    pad = np.vstack([np.zeros((1, dim), np.float32), vectors, np.zeros((1, dim), np.float32)])
    extra = np.array([[i in asks, i - 1 in asks, i / max(n, 1), i == 0] for i in range(n)],
                     dtype=np.float32).reshape(n, len(EXTRA))
    return np.hstack([vectors, pad[:-2] - pad[2:], extra]).astype(np.float32)


@functools.cache
def _model() -> tuple[F32, float]:
    data = json.loads(_WEIGHTS.read_text(encoding="utf-8"))
    if data["extra"] != list(EXTRA):
        raise BackendUnavailableError(f"{_WEIGHTS.name} was fitted on other features; refit it "
                                      "with eval/train_speakers.py")
    return np.array(data["weights"], dtype=np.float32), float(data["bias"])


def agent_sentences(text: str, sents: Sequence[Span], asks: Collection[int]) -> set[int]:
    """The indices of the sentences the agent most likely says.

    Args:
        text: the call.
        sents: its sentences, as character spans.
        asks: the indices of the sentences that ask something.
    """
    if not sents:
        return set()
    from audiohub.extraction.backends.local.analyzer import _embedder
    from audiohub.extraction.backends.local.embedded import embed_text

    vectors = embed_text(_embedder(), text).span_vectors(list(sents))
    w, b = _model()
    return {int(i) for i in np.flatnonzero(features(vectors, asks) @ w + b > 0)}
