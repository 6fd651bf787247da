"""Cutting long recordings into pieces Whisper can take without holding the whole call's
spectrogram in memory.

faster-whisper computes the log-mel features of everything it is given in one go: for a
60-minute call that is about 2.6 GB of STFT intermediates on top of the audio. Transcribing
2-minute pieces bounds that to under 0.1 GB (5-minute pieces: ~0.2 GB, which put a 60-minute
call with Whisper base over the 1.2 GB memory goal). Whisper decodes 30-second windows either
way, so the piece length changes only where the few extra cuts fall. Each cut is placed at the
quietest 100 ms within 15 s of the nominal boundary, so it falls in a pause, not inside a word.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from audiohub.transcription.audio import SAMPLE_RATE

CHUNK_S = 120.0
SEARCH_S = 15.0
_WINDOW = SAMPLE_RATE // 10


def chunk_bounds(
    samples: npt.NDArray[np.float32], chunk_s: float = CHUNK_S, search_s: float = SEARCH_S
) -> list[tuple[int, int]]:
    """Sample ranges covering `samples` in order, each about `chunk_s` long."""
    total = len(samples)
    step = int(chunk_s * SAMPLE_RATE)
    if total <= step + int(search_s * SAMPLE_RATE):
        return [(0, total)]
    bounds: list[tuple[int, int]] = []
    start = 0
    # Never search further back than half a piece, so every cut moves forward.
    radius = min(int(search_s * SAMPLE_RATE), step // 2)
    while total - start > step + int(search_s * SAMPLE_RATE):
        cut = _quietest(samples, start + step, radius)
        bounds.append((start, cut))
        start = cut
    bounds.append((start, total))
    return bounds


def _quietest(samples: npt.NDArray[np.float32], around: int, radius: int) -> int:
    lo = max(around - radius, 0)
    hi = min(around + radius, len(samples))
    n = (hi - lo) // _WINDOW
    if n < 1:
        return around
    frames = samples[lo:lo + n * _WINDOW].reshape(n, _WINDOW)
    energy = np.einsum("ij,ij->i", frames, frames)
    return lo + int(np.argmin(energy)) * _WINDOW + _WINDOW // 2
