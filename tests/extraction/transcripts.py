"""Transcripts built from text the way Whisper returns them, for tests of the analysis stage."""

from __future__ import annotations

from audiohub.domain import Segment, Transcript, Word


def make_transcript(turns: list[str], word_s: float = 0.3, gap_s: float = 0.1,
                    pause_s: float = 0.5, probability: float = 0.9,
                    flags: list[str] | None = None) -> Transcript:
    """One segment per turn; each word lasts `word_s`, with Whisper's leading space."""
    segments: list[Segment] = []
    t = 0.0
    for i, turn in enumerate(turns):
        start, words = t, []
        for w in turn.split():
            words.append(Word(word=f" {w}", start=round(t, 3), end=round(t + word_s, 3),
                              probability=probability))
            t += word_s + gap_s
        segments.append(Segment(id=i, start=round(start, 3), end=round(t - gap_s, 3),
                                text=f" {turn}", words=words))
        t += pause_s
    return Transcript.from_segments(segments, "en", round(t, 3), flags)
