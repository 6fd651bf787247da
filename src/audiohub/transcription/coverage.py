"""Nothing said is dropped: VAD speech regions checked against the words that came back.

(Placeholder: the check and repair are filled in by issue 16's coverage work.)
"""

from __future__ import annotations

from collections.abc import Sequence

from audiohub.domain import Transcript
from audiohub.transcription.audio import DecodedAudio
from audiohub.transcription.base import Transcriber


def check_coverage(transcript: Transcript, audio: DecodedAudio, transcriber: Transcriber,
                   keyterms: Sequence[str], min_gap_s: float) -> Transcript:
    """Re-decode VAD speech stretches of `min_gap_s` or more that hold no words, merge what they
    yield, flag what stays uncovered, and set `speech_coverage`."""
    return transcript
