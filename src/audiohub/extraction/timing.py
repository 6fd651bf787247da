"""Timing metrics from word timestamps, the same for every analyzer: talk time, silence, pace,
and per speaker where the recording told the speakers apart."""

from __future__ import annotations

import itertools
from collections import defaultdict

from audiohub.domain import SpeakerTiming, Transcript, Word


def timed_words(transcript: Transcript) -> list[Word]:
    """The words with text and a valid interval, in transcript order."""
    return [w for s in transcript.segments for w in s.words if w.word.strip() and w.end >= w.start]


def _merged(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The union of intervals as sorted, disjoint intervals (touching ones joined)."""
    out: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def timing(transcript: Transcript) -> tuple[float | None, float | None, float | None]:
    """Talk time (the union of word intervals), silence ratio and words per talking minute.

    Returns:
        (talk_time_seconds, silence_ratio, words_per_minute); all None without word timings,
        the ratio None for a zero duration.
    """
    words = timed_words(transcript)
    if not words:
        return None, None, None
    talk = sum(end - start for start, end in _merged([(w.start, w.end) for w in words]))
    silence = None
    if transcript.duration > 0:
        silence = round(min(1.0, max(0.0, 1.0 - talk / transcript.duration)), 4)
    wpm = round(len(words) / (talk / 60.0), 1) if talk > 0 else None
    return round(talk, 3), silence, wpm


def longest_silence(transcript: Transcript) -> float | None:
    """The longest stretch without a word: before the first, between the merged word intervals,
    or after the last until the end of the audio; None without word timings."""
    spans = _merged([(w.start, w.end) for w in timed_words(transcript)])
    if not spans:
        return None
    gaps = [spans[0][0], transcript.duration - spans[-1][1]]
    gaps += [nxt[0] - prev[1] for prev, nxt in itertools.pairwise(spans)]
    return round(max(0.0, *gaps), 3)


def speaker_timing(transcript: Transcript) -> tuple[dict[str, SpeakerTiming] | None, int | None]:
    """Talk time, talk share and words per speaker, and how often one cut in on the other.

    An interruption is a change of speaker where the new speaker's first word starts before the
    previous speaker's words have ended. Words without a speaker are left out of both.

    Returns:
        (speakers, interruptions); (None, None) when no word has a speaker: a call whose parties
        were not told apart gets no per-speaker numbers rather than invented ones.
    """
    words = sorted((w for w in timed_words(transcript) if w.speaker is not None),
                   key=lambda w: (w.start, w.end))
    if not words:
        return None, None
    spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for w in words:
        spans[str(w.speaker)].append((w.start, w.end))
    talk = {who: sum(e - s for s, e in _merged(iv)) for who, iv in spans.items()}
    total = sum(talk.values())
    speakers: dict[str, SpeakerTiming] = {}
    for who, iv in spans.items():
        # Only zero-length words (no timings to speak of): share by word count instead.
        ratio = talk[who] / total if total > 0 else len(iv) / len(words)
        speakers[who] = SpeakerTiming(talk_time_seconds=round(talk[who], 3),
                                      talk_ratio=round(ratio, 4), words=len(iv))
    interruptions, current, until = 0, words[0].speaker, words[0].end
    for w in words[1:]:
        if w.speaker != current:
            if w.start < until:
                interruptions += 1
            current, until = w.speaker, w.end
        else:
            until = max(until, w.end)
    return speakers, interruptions
