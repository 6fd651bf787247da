"""Nothing said is dropped: VAD speech regions checked against the words that came back.

Timestamped Whisper decoding sometimes skips a stretch it heard: it jumps its timestamp token past
the opening turns of a call, or past a turn in the middle, and the words are simply not there
(issue 16: base skipped a call's first 12 s, the greeting and the caller's reason). Nothing in
the decoder says so. Here Silero VAD (the one faster-whisper ships) marks the speech of the whole
recording, the words' times are laid over it, and every stretch of speech of `min_gap_s` or more
with no words is decoded again on its own, a short clip, where Whisper has no earlier timestamp
to jump from. What the clip yields is merged in time order; a stretch that still yields nothing
is named in `Transcript.flags` (`uncovered_speech ...`), so the call gets `needs_review`.

`speech_coverage` is the share of the VAD's speech time that words cover, after the repair.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher

import numpy as np

from audiohub.domain import Segment, Transcript, Word
from audiohub.transcription.audio import SAMPLE_RATE, DecodedAudio
from audiohub.transcription.base import Transcriber
from audiohub.transcription.guard import word_key

Interval = tuple[float, float]

# Whisper's word times are aligned from cross-attention and are rough by a few hundred ms (a
# word's end is often cut short); a word covers the speech this far either side of it.
WORD_SLACK_S = 0.3
# Padding around a re-decoded stretch: the first and last syllables need their onset.
CLIP_PAD_S = 0.4
# At most this many stretches are decoded again per call, the longest first. Each re-decode
# costs a model call with its fixed overhead (features, VAD, a 30 s window) however short the
# clip, so a noisy recording whose VAD marks dozens of short wordless stretches would otherwise
# cost several times the call; the total clip time is bounded anyway by the call's own length,
# since stretches do not overlap. Stretches over the limit are flagged like unrepaired ones.
MAX_REDECODES = 8
# Whisper sometimes keeps a stretch's words but times them late, after the stretch: the clip then
# hears them again. Recovered words are dropped as a repeat when at least this many of them, and
# this share, match in order the words already there within NEIGHBOUR_S of the stretch. Fewer
# than that ("okay", "yes") are kept: short answers recur in any call.
REPEAT_MIN_WORDS = 3
REPEAT_SHARE = 0.6
NEIGHBOUR_S = 10.0
# Whisper's own checks on a decoded window (faster-whisper's defaults): past these it would
# sample again at a higher temperature. The re-decode never samples (its words would change from
# run to run), so a re-decoded segment that fails them is not trusted: on speech with no words in
# it (a garbled line, noise) that is the repetition loop or made-up sentence Whisper falls into.
MAX_COMPRESSION_RATIO = 2.4
MIN_AVG_LOGPROB = -1.0


@dataclass(frozen=True)
class VadConfig:
    """Silero VAD options for the coverage check (WHISPER_VAD_THRESHOLD for the threshold).

    Finer than the decoder's VAD on purpose: the decoder's 2 s minimum silence and 400 ms pad
    keep turns whole for Whisper, and would count every pause under 2 s between turns as
    speech here, i.e. as wordless speech to re-decode.
    """

    threshold: float = 0.5
    min_silence_ms: int = 300
    speech_pad_ms: int = 100


def merge(intervals: Sequence[Interval], join: float = 0.0) -> list[Interval]:
    """The union of `intervals`, sorted; intervals closer than `join` become one."""
    out: list[Interval] = []
    for lo, hi in sorted(i for i in intervals if i[1] > i[0]):
        if out and lo <= out[-1][1] + join:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def subtract(base: Sequence[Interval], cut: Sequence[Interval]) -> list[Interval]:
    """The parts of `base` not in `cut` (both any order, overlapping or not)."""
    cuts = merge(cut)
    out: list[Interval] = []
    for lo, hi in merge(base):
        at = lo
        for c_lo, c_hi in cuts:
            if c_hi <= at or c_lo >= hi:
                continue
            if c_lo > at:
                out.append((at, c_lo))
            at = max(at, c_hi)
        if at < hi:
            out.append((at, hi))
    return out


def total(intervals: Sequence[Interval]) -> float:
    return sum(hi - lo for lo, hi in merge(intervals))


def within(intervals: Sequence[Interval], lo: float, hi: float) -> float:
    """How much of `intervals` lies between `lo` and `hi`."""
    return sum(max(0.0, min(b, hi) - max(a, lo)) for a, b in merge(intervals))


def word_cover(words: Sequence[Word], slack: float = WORD_SLACK_S) -> list[Interval]:
    return merge([(w.start - slack, w.end + slack) for w in words])


def wordless_stretches(speech: Sequence[Interval], words: Sequence[Word],
                       min_gap_s: float) -> list[Interval]:
    """Stretches of speech with no word in them holding `min_gap_s` of speech or more.

    Uncovered pieces of speech with no word between them are one stretch (a turn the VAD split
    at a breath); its length is the speech in it, not the span, so two coughs across a pause
    do not add up to a turn.
    """
    cover = word_cover(words)
    pieces = subtract(speech, cover)
    out: list[Interval] = []
    group: list[Interval] = []

    def close() -> None:
        if group and total(group) >= min_gap_s:
            out.append((group[0][0], group[-1][1]))

    for piece in pieces:
        if group and any(group[-1][1] <= lo and hi <= piece[0] for lo, hi in cover):
            close()
            group = []
        group.append(piece)
    close()
    return out


def speech_regions(audio: DecodedAudio, vad: VadConfig) -> list[Interval]:
    """Silero VAD speech regions of the whole recording, in seconds."""
    # Imported here: a process that only routes (the gateway) never loads onnxruntime.
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(threshold=vad.threshold, min_silence_duration_ms=vad.min_silence_ms,
                         speech_pad_ms=vad.speech_pad_ms)
    stamps = get_speech_timestamps(audio.samples, options, sampling_rate=SAMPLE_RATE)
    return merge([(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in stamps])


def _clip(audio: DecodedAudio, lo: float, hi: float) -> DecodedAudio:
    a, b = int(lo * SAMPLE_RATE), int(hi * SAMPLE_RATE)
    # Copied: the clip outlives nothing, but a view would keep the caller's buffer writable to it.
    return replace(audio, samples=np.ascontiguousarray(audio.samples[a:b]), channel_energy=None)


def _shifted(clip: Transcript, offset: float) -> list[Segment]:
    """The clip's segments in call time."""
    return [seg.model_copy(update={
        "start": round(seg.start + offset, 3), "end": round(seg.end + offset, 3),
        "words": [w.model_copy(update={"start": round(w.start + offset, 3),
                                       "end": round(w.end + offset, 3)}) for w in seg.words]})
        for seg in clip.segments]


def _mid(w: Word) -> float:
    return (w.start + w.end) / 2


def _recovered(segments: Sequence[Segment], keep: Interval,
               taken: Sequence[Interval]) -> list[Segment]:
    """The segments' words whose middle falls inside `keep` and outside the words already there
    (the clip's padding may hear their edges), as segments with their text rebuilt; segments
    that fail Whisper's own checks are left out."""
    out: list[Segment] = []
    for seg in segments:
        if ((seg.compression_ratio or 0.0) > MAX_COMPRESSION_RATIO
                or (seg.avg_logprob or 0.0) < MIN_AVG_LOGPROB):
            continue
        words = [w for w in seg.words if keep[0] <= _mid(w) <= keep[1]
                 and not any(lo <= _mid(w) <= hi for lo, hi in taken)]
        if words:
            out.append(seg.model_copy(update={
                "start": words[0].start, "end": words[-1].end, "words": words,
                "text": "".join(w.word for w in words).strip()}))
    return out


def _tokens(words: Sequence[Word]) -> list[str]:
    return [t for t in map(word_key, words) if t]


def repeats_neighbours(recovered: Sequence[Word], existing: Sequence[Word],
                       lo: float, hi: float) -> bool:
    """Whether `recovered` (words a clip of lo..hi gave) is mostly what the transcript already
    says just before or after the stretch: the same words, mistimed, heard twice."""
    mine = _tokens(recovered)
    near = _tokens([w for w in existing if lo - NEIGHBOUR_S <= _mid(w) <= hi + NEIGHBOUR_S])
    if len(mine) < REPEAT_MIN_WORDS or not near:
        return False
    matcher = SequenceMatcher(a=mine, b=near, autojunk=False)
    same = sum(block.size for block in matcher.get_matching_blocks())
    return same >= REPEAT_MIN_WORDS and same / len(mine) >= REPEAT_SHARE


def check_coverage(transcript: Transcript, audio: DecodedAudio, transcriber: Transcriber,
                   keyterms: Sequence[str], min_gap_s: float,
                   vad: VadConfig | None = None) -> Transcript:
    """Re-decode VAD speech stretches of `min_gap_s` or more that hold no words, merge what they
    yield, flag what stays uncovered, and set `speech_coverage`.

    Skipped (coverage None) when the recogniser gives no word times of its own (Gemini's are
    spread evenly over each segment, so they say nothing about where speech was missed).
    """
    if not transcript.word_probabilities:
        return transcript
    speech = speech_regions(audio, vad or VadConfig())
    if not speech:
        return transcript.model_copy(update={"speech_coverage": None})
    words = [w for s in transcript.segments for w in s.words]
    stretches = wordless_stretches(speech, words, min_gap_s)
    # The longest first: if the limit bites, what is left out is the least speech.
    ranked = sorted(stretches, key=lambda s: within(speech, *s), reverse=True)
    added: list[Segment] = []
    flags: list[str] = []
    notes: list[str] = []
    for n, (lo, hi) in enumerate(ranked):
        heard = within(speech, lo, hi)
        where = f"{lo:.1f}-{hi:.1f}s"
        if n >= MAX_REDECODES:
            flags.append(f"uncovered_speech {where}: {heard:.1f} s of speech with no words "
                         f"(not decoded again: {MAX_REDECODES} stretches per call at most)")
            continue
        # The stretch alone: with no earlier timestamp to jump from, Whisper decodes it. (Taking
        # the segment after it along, in case the stretch's words were squeezed into it with
        # wrong times, made the clip skip the same stretch again on the fixture call.)
        start, end = max(lo - CLIP_PAD_S, 0.0), min(hi + CLIP_PAD_S, audio.duration)
        # Deterministic: a hard stretch is where Whisper's sampling fallback kicks in, and what it
        # draws differs run to run.
        decoded = transcriber.transcribe(_clip(audio, start, end), keyterms, deterministic=True)
        clip = _shifted(decoded, start)
        segs = _recovered(clip, (start, end), word_cover(words, 0.0))
        if segs and repeats_neighbours([w for s in segs for w in s.words], words, lo, hi):
            notes.append(f"speech at {where} had no words; decoded again on its own, it gave "
                         "words the transcript already has next to it (kept once)")
            continue
        if segs:
            added.extend(segs)
            count = sum(len(s.words) for s in segs)
            notes.append(f"speech at {where} had no words; decoded again on its own: "
                         f"{count} words recovered")
        else:
            flags.append(f"uncovered_speech {where}: {heard:.1f} s of speech with no words, "
                         "also when decoded again on its own")
    segments = sorted([*transcript.segments, *added], key=lambda s: (s.start, s.end))
    segments = [s.model_copy(update={"id": i}) for i, s in enumerate(segments)]
    all_words = [w for s in segments for w in s.words]
    covered = total(speech) - total(subtract(speech, word_cover(all_words)))
    repaired = Transcript.from_segments(segments, language=transcript.language,
                                        duration=transcript.duration,
                                        flags=[*transcript.flags, *flags])
    return repaired.model_copy(update={
        "notes": [*transcript.notes, *notes],
        "word_probabilities": transcript.word_probabilities,
        "corrections": transcript.corrections,
        "speech_coverage": round(min(covered / total(speech), 1.0), 4),
    })
