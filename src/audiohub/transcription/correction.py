"""The custom-vocabulary correction pass: transcript words that sound and read like a term
become the term.

It works on whole Whisper `Word`s only: a span is 1..k consecutive words of one segment, so each
replacement keeps the words' audio time and maps back to the text exactly. A span is replaced when
its letters are a close spelling match (RapidFuzz's normalised Indel ratio on the letters and
digits, spaces ignored: "Wall greens" reads as "wallgreens") AND its sound is a close match
(the ratio of the two Metaphone codes, from jellyfish) of the term or of one of its spoken forms.
Guards, each measured on the tuning calls (README "Custom vocabulary"): short terms need a
near-exact match, the span and the term must be of like length, a span never runs across a
comma or full stop, and a word Whisper was sure of is left alone unless the match is exact.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import jellyfish
import numpy as np
from rapidfuzz import fuzz, process

from audiohub.domain import Correction, Segment, Transcript, Word


@dataclass(frozen=True)
class MatchSettings:
    """The thresholds of one correction pass (defaults: the setting chosen on the tuning calls)."""

    # RapidFuzz ratio (0-100) of the letters, and of the Metaphone codes. On the 16 kHz tuning
    # calls (a 75-term company list against every call) 80/80 made 31 corrections, 2 wrong
    # ("go away" -> "Galway"); 75/70 and 70/70 many more wrong ("never" -> "Denver", "do for" ->
    # "Okafor"); 85/80 lost 7 right ones. README "Custom vocabulary" has the table.
    min_spelling: float = 80.0
    min_sound: float = 80.0
    # Terms this short (letters and digits) must match their letters exactly: one changed letter
    # of a four-letter name is a different common word ("Finn", "fine").
    short_term: int = 5
    # Spans whose mean word probability is above this were heard clearly: replaced only when
    # their letters are the term's exactly ("Stream Plus" -> "StreamPlus"). The wrong ones
    # above were all heard at 0.99; 0.95 removed both and no value found.
    max_probability: float = 0.95
    # The span's letters may be this much shorter or longer than the term's (as a share).
    max_length_change: float = 0.25
    # Which phonetic code compares the sounds (both from jellyfish).
    phonetic: Literal["metaphone", "nysiis"] = "metaphone"


DEFAULT_SETTINGS = MatchSettings()


@dataclass(frozen=True)
class Form:
    """One way a term is written or said: the term itself or one of its aliases."""

    term: str
    key: str  # lowercase letters and digits, no spaces or accents
    metaphone: str
    nysiis: str
    words: int


def key(text: str) -> str:
    """Lowercase letters and digits only, accents dropped: how spellings are compared."""
    plain = unicodedata.normalize("NFKD", text)
    return "".join(c for c in plain.lower() if c.isalnum() and not unicodedata.combining(c))


def sound(text_key: str, phonetic: Literal["metaphone", "nysiis"] = "metaphone") -> str:
    """The phonetic code of a key; digits have no sound, so a key with digits is its own code."""
    if any(c.isdigit() for c in text_key):
        return text_key
    return jellyfish.metaphone(text_key) if phonetic == "metaphone" else jellyfish.nysiis(text_key)


def forms(terms: Sequence[tuple[str, Sequence[str]]]) -> list[Form]:
    """Every written and spoken form of `terms` ((term, aliases) pairs), once each."""
    out: dict[str, Form] = {}
    for term, aliases in terms:
        for text in (term, *aliases):
            k = key(text)
            if k and k not in out:
                out[k] = Form(term=term, key=k, metaphone=sound(k), nysiis=sound(k, "nysiis"),
                              words=len(text.split()))
    return list(out.values())


@dataclass(frozen=True)
class _Slot:
    """One word of a segment, located in the segment's text."""

    word: Word
    key: str
    at: int  # where its stripped token starts in the segment text
    end: int
    core: str  # the token without the punctuation around it
    lead: str  # punctuation before its letters ('"', '(')
    trail: str  # punctuation after them (',', '?')


@dataclass(frozen=True)
class _Match:
    seg: int
    first: int
    last: int  # inclusive
    form: Form
    score: float


_EDGE = re.compile(r"^(\W*)(.*?)(\W*)$", re.DOTALL)
_POSSESSIVE = re.compile(r"(?<=\w)['\u2019]s$", re.IGNORECASE)


def _slots(seg: Segment) -> list[_Slot] | None:
    """The segment's words located in its text, or None where a word is not in it (the text
    was edited after decoding): such a segment is not corrected."""
    text, cursor, out = seg.text.strip(), 0, []
    for w in seg.words:
        token = w.word.strip()
        if not token:
            continue
        at = text.find(token, cursor)
        if at < 0:
            return None
        m = _EDGE.match(token)
        assert m is not None  # the pattern matches any string
        core, trail = m.group(2), m.group(3)
        if (p := _POSSESSIVE.search(core)) is not None:  # "Ramaswami's": the 's stays
            core, trail = core[:p.start()], core[p.start():] + trail
        out.append(_Slot(w, key(core), at, at + len(token), core, m.group(1), trail))
        cursor = at + len(token)
    return out


def _spans(slots: list[_Slot], longest: int) -> list[tuple[int, int]]:
    """(first, last) word index pairs of the spans to try: only the first word may carry
    leading punctuation, only the last trailing punctuation (a span stays within a phrase)."""
    out = []
    for i, s in enumerate(slots):
        if not s.key:
            continue
        for j in range(i, min(i + longest, len(slots))):
            if not slots[j].key or (j > i and slots[j].lead):
                break
            out.append((i, j))
            if slots[j].trail and slots[j].trail not in "'-":
                break
    return out


def _accept(span_key: str, text: str, probability: float, f: Form, spelling: float,
            s: MatchSettings) -> float | None:
    """The match's score, or None when a guard refuses it."""
    if text.lower() == f.term.lower():
        return None  # already the term
    exact = span_key == f.key
    if not exact:
        if len(f.key) < s.short_term or any(c.isdigit() for c in f.key):
            return None
        if abs(len(span_key) - len(f.key)) > s.max_length_change * len(f.key):
            return None
        if probability > s.max_probability:
            return None
    code = f.metaphone if s.phonetic == "metaphone" else f.nysiis
    sounds = 100.0 if exact else fuzz.ratio(sound(span_key, s.phonetic), code)
    if sounds < s.min_sound:
        return None
    return spelling + sounds


@dataclass(frozen=True)
class _Span:
    seg: int
    first: int
    last: int
    key: str
    text: str
    probability: float


def _candidates(transcript: Transcript, terms: set[str], longest: int,
                taken: set[tuple[int, int]]) -> list[_Span]:
    """Every span to compare; the words of a span that already reads as a term go to `taken`."""
    out = []
    for si, seg in enumerate(transcript.segments):
        slots = _slots(seg)
        if slots is None:
            continue
        for i, j in _spans(slots, longest):
            span = slots[i:j + 1]
            text = " ".join(x.core for x in span)
            if text.lower() in terms:
                taken.update((si, n) for n in range(i, j + 1))
                continue
            out.append(_Span(si, i, j, "".join(x.key for x in span), text,
                             sum(x.word.probability for x in span) / len(span)))
    return out


def find_matches(transcript: Transcript, all_forms: Sequence[Form],
                 settings: MatchSettings = DEFAULT_SETTINGS) -> list[_Match]:
    """The non-overlapping best matches, best first chosen, in transcript order."""
    if not all_forms:
        return []
    keys = [f.key for f in all_forms]
    taken: set[tuple[int, int]] = set()
    spans = _candidates(transcript, {f.term.lower() for f in all_forms},
                        max(f.words for f in all_forms) + 2, taken)
    found: list[_Match] = []
    # All spans against all forms in C, a block at a time (one call per span is 8x slower):
    # an hour-long call against 1000 terms takes seconds.
    for lo in range(0, len(spans), 512):
        block = spans[lo:lo + 512]
        scores = process.cdist([x.key for x in block], keys, scorer=fuzz.ratio,
                               score_cutoff=settings.min_spelling, dtype=np.float32)
        for row, col in zip(*np.nonzero(scores), strict=True):
            x, f = block[row], all_forms[col]
            if not f.words - 1 <= x.last - x.first + 1 <= f.words + 2:
                continue
            score = _accept(x.key, x.text, x.probability, f, float(scores[row, col]), settings)
            if score is not None:
                found.append(_Match(x.seg, x.first, x.last, f, score))
    chosen: list[_Match] = []
    # Best first; on a tie the longer span (it explains more of what was heard).
    for m in sorted(found, key=lambda m: (-m.score, m.first - m.last)):
        cells = {(m.seg, n) for n in range(m.first, m.last + 1)}
        if cells & taken:
            continue
        taken |= cells
        chosen.append(m)
    return sorted(chosen, key=lambda m: (m.seg, m.first))


def _new_words(span: list[_Slot], term: str) -> list[Word]:
    """The term as Words over the span's time: one to one when the counts agree, else the
    term's words share the span's time by their length."""
    parts = term.split()
    first, last = span[0].word, span[-1].word
    space = first.word[:len(first.word) - len(first.word.lstrip())]
    prob = round(sum(x.word.probability for x in span) / len(span), 4)
    if len(parts) == len(span):
        times = [(x.word.start, x.word.end) for x in span]
    else:
        total, t, times = sum(len(p) for p in parts), first.start, []
        for p in parts:
            step = (last.end - first.start) * len(p) / total
            times.append((round(t, 3), round(t + step, 3)))
            t += step
        times[-1] = (times[-1][0], last.end)
    out = []
    for n, (p, (a, b)) in enumerate(zip(parts, times, strict=True)):
        lead = (space + span[0].lead) if n == 0 else " "
        trail = span[-1].trail if n == len(parts) - 1 else ""
        out.append(Word(word=lead + p + trail, start=a, end=b, probability=prob,
                        speaker=first.speaker))
    return out


def apply(transcript: Transcript, matches: Sequence[_Match]) -> Transcript:
    """The transcript with each match's words replaced by its term, the segment texts and the
    transcript text rebuilt (segment texts joined by single spaces, as `from_segments`), and one
    `Correction` per replacement with its span in the new text."""
    if not matches:
        return transcript
    segments: list[Segment] = []
    # (segment index, offset of the term in the segment's new text, match, heard text, times)
    placed: list[tuple[int, int, _Match, str, float, float]] = []
    for si, seg in enumerate(transcript.segments):
        mine = [m for m in matches if m.seg == si]
        slots = _slots(seg) if mine else None
        if slots is None:
            segments.append(seg)
            continue
        index = {id(w): n for n, w in enumerate(seg.words)}
        text, cursor, done = seg.text.strip(), 0, 0
        new_text, new_words = "", []
        for m in mine:
            span = slots[m.first:m.last + 1]
            # The term takes the letters' place; the punctuation around them stays.
            a, b = span[0].at + len(span[0].lead), span[-1].end - len(span[-1].trail)
            new_text += text[cursor:a]
            placed.append((si, len(new_text), m, text[a:b], span[0].word.start,
                           span[-1].word.end))
            new_text += m.form.term
            cursor = b
            new_words += seg.words[done:index[id(span[0].word)]] + _new_words(span, m.form.term)
            done = index[id(span[-1].word)] + 1
        new_text += text[cursor:]
        new_words += seg.words[done:]
        segments.append(seg.model_copy(update={"text": new_text, "words": new_words}))
    starts, at = {}, 0
    for si, seg in enumerate(segments):
        if seg.text.strip():
            starts[si] = at
            at += len(seg.text.strip()) + 1
    corrections = [
        Correction.model_validate({
            "from": heard, "to": m.form.term, "char_start": starts[si] + offset,
            "char_end": starts[si] + offset + len(m.form.term), "start": t0, "end": t1})
        for si, offset, m, heard, t0, t1 in placed
    ]
    text = " ".join(s.text.strip() for s in segments if s.text.strip())
    return transcript.model_copy(update={
        "text": text, "segments": segments,
        "corrections": [*transcript.corrections, *corrections]})


def correct(transcript: Transcript, all_forms: Sequence[Form],
            settings: MatchSettings = DEFAULT_SETTINGS) -> Transcript:
    """Replace each span that is a close spelling and sound match of a form by its term.

    A transcript whose text is not its segments' texts joined (a backend that rebuilt it some
    other way) is returned unchanged: the corrections could not be placed in it exactly.
    """
    joined = " ".join(s.text.strip() for s in transcript.segments if s.text.strip())
    if joined != transcript.text:
        return transcript
    return apply(transcript, find_matches(transcript, all_forms, settings))
