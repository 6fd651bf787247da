"""Whisper's two known ways of inventing text, removed before anyone reads the transcript.

1. Text on stretches Whisper itself marks as no speech: a segment whose no-speech probability is
   high and whose decoding was unsure (Whisper's own silence rule: no_speech_prob > 0.6 and
   avg_logprob < -1) is dropped.
2. Repetition loops: the decoder gets stuck and emits the same phrase again and again. A phrase
   of 2-8 words repeated 3+ times in a row, or one word 5+ times, is kept once. Single digits are
   exempt: "one one one one" is a plausible account number.

Everything removed is described in `Transcript.flags` so a reviewer can check it in the audio.
"""

from __future__ import annotations

import re

from audiohub.domain import Segment, Word
from audiohub.numberwords import DIGIT_WORDS

NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
_MAX_NGRAM = 8


def word_key(word: Word) -> str:
    """A word as compared with others: lowercase, punctuation and spaces gone, apostrophes kept."""
    return re.sub(r"[^\w']", "", word.word.lower())


def _min_repeats(gram: list[str]) -> int:
    return 5 if len(gram) == 1 else 3


def collapse_loops(words: list[Word]) -> tuple[list[Word], list[str]]:
    """Keep one copy of each run of a repeated phrase; return the words kept and what was cut."""
    keys = [word_key(w) for w in words]
    kept: list[Word] = []
    flags: list[str] = []
    i = 0
    while i < len(words):
        cut = False
        for n in range(1, _MAX_NGRAM + 1):  # the shortest period: "a b a b a b" is "a b" x3
            gram = keys[i:i + n]
            if len(gram) < n or not all(gram):
                continue
            if n == 1 and (gram[0] in DIGIT_WORDS or gram[0].isdigit()):
                continue
            reps = 1
            while keys[i + reps * n:i + (reps + 1) * n] == gram:
                reps += 1
            if reps >= _min_repeats(gram):
                kept.extend(words[i:i + n])
                phrase = " ".join(w.word.strip() for w in words[i:i + n])
                flags.append(f"repetition loop at {words[i].start:.1f}s: '{phrase}' x{reps}, "
                             "kept once")
                i += reps * n
                cut = True
                break
        if not cut:
            kept.append(words[i])
            i += 1
    return kept, flags


def clean(segments: list[Segment]) -> tuple[list[Segment], list[str]]:
    """Drop no-speech segments and collapse repetition loops (across segment boundaries too)."""
    flags: list[str] = []
    speech: list[Segment] = []
    for seg in segments:
        if seg.no_speech_prob > NO_SPEECH_PROB and seg.avg_logprob < LOW_LOGPROB:
            flags.append(f"dropped {seg.start:.1f}-{seg.end:.1f}s: marked as no speech "
                         f"(p={seg.no_speech_prob:.2f}): '{seg.text.strip()[:60]}'")
        else:
            speech.append(seg)
    words = [(i, w) for i, s in enumerate(speech) for w in s.words]
    kept, loop_flags = collapse_loops([w for _, w in words])
    if not loop_flags:
        return speech, flags
    keep_ids = {id(w) for w in kept}
    out: list[Segment] = []
    for i, seg in enumerate(speech):
        seg_words = [w for j, w in words if j == i and id(w) in keep_ids]
        if not seg_words:
            continue
        text = "".join(w.word for w in seg_words).strip()
        out.append(seg.model_copy(update={"id": len(out), "words": seg_words, "text": text,
                                          "start": seg_words[0].start, "end": seg_words[-1].end}))
    return out, flags + loop_flags
