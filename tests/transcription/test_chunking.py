from __future__ import annotations

import itertools

import numpy as np

from audiohub.transcription.audio import SAMPLE_RATE
from audiohub.transcription.chunking import CHUNK_S, chunk_bounds


def test_short_audio_is_one_chunk() -> None:
    # A little over one piece: cutting off a few seconds would only add a boundary.
    samples = np.ones(int(SAMPLE_RATE * (CHUNK_S + 10)), dtype=np.float32)
    assert chunk_bounds(samples) == [(0, len(samples))]


def test_long_audio_is_cut_in_the_pauses_and_covered_exactly() -> None:
    rng = np.random.default_rng(0)
    step = int(CHUNK_S)
    samples = (rng.standard_normal(SAMPLE_RATE * (3 * step + 100)) * 0.3).astype(np.float32)
    # One quiet second near each nominal boundary (a piece's length after the last cut, which
    # falls in the middle of the previous pause), before or after it.
    pauses: list[int] = []
    for offset in (-10, 7, -5):
        pauses.append(int((pauses[-1] + 0.5 if pauses else 0) + step + offset))
    for p in pauses:
        samples[p * SAMPLE_RATE:(p + 1) * SAMPLE_RATE] = 0.0
    bounds = chunk_bounds(samples)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(samples)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    cuts = [hi / SAMPLE_RATE for _, hi in bounds[:-1]]
    assert len(cuts) == 3
    for cut, pause in zip(cuts, pauses, strict=True):
        assert pause <= cut <= pause + 1


def test_pieces_shorter_than_the_search_window_still_move_forward() -> None:
    """A quiet point searched for too far back would cut before the piece's start; the search
    never reaches back more than half a piece."""
    samples = np.zeros(16000 * 60, dtype=np.float32)
    bounds = chunk_bounds(samples, chunk_s=4, search_s=15)
    assert all(lo < hi for lo, hi in bounds)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(samples)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
