"""Names as callers say them: a name followed by its spelling ("Chen, C-H-E-N").

Whisper mishears unusual names but writes spelled letters reliably, so a spelling said right after
a name corrects the word of the name it spells.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable

from audiohub.extraction.backends.local import cues as vocab

Span = tuple[int, int]

# Three or more single letters: "C-H-E-N", "C H E N", "C, H, E, N", "C. H. E. N."
SPELLED = re.compile(r"\b[A-Za-z](?:(?:\.?-|\.?,? )[A-Za-z]\b){2,}\.?")
# What may sit between a name and its spelling: "Chen, that's C-H-E-N", "Rossi. R-O-S-S-I",
# or the agent asking for it: "Farhan Chowry. Could you spell the surname? C, H, A, U, D, ..."
_BRIDGE = re.compile(r"[\s,.:;-]*(?:(?:that's|that is|it's|spelled|spelt|as in|last name"
                     r"|first name|is|[^.?!]{0,40}\bspell\b[^.?!]{0,40}[.?])[\s,.:;-]*)*", re.I)
_MIN_LIKENESS = 0.5
_SAME_WORD = 0.9
# A whole sentence that is only a name, as answers to "May I have your name?" often are; spaCy
# misses unusual names said on their own.
_NOT_NAMES = r"(?:Yes|Yeah|Please|Thanks?|Sure|Okay|Sorry|Good|Great|Hello|Hi|Bye|Right|Perfect)"
ANSWER = re.compile(rf"\s*(?:(?i:{vocab.ANSWER_WORDS}|this is)"
                    rf"[\s,]+)*(?!{_NOT_NAMES}\b)([A-Z][a-z][\w'-]*(?: [A-Z][a-z][\w'-]*){{1,2}})"
                    # and its spelling, which Whisper may write as one word: "at SKOWLSKI"
                    r"(?:[\s,]+(?:(?i:at|that's|that is|spelled)[\s,]+)?"
                    r"[A-Z](?:[A-Z]|[.-] ?[A-Z]){2,})?"
                    r"[\s.!]*")


# What may come between the question and the whole name: the surname alone, its spelling.
_SHORT = re.compile(rf"\s*(?:[A-Z][\w'-]*|{SPELLED.pattern})[\s.!,]*")
_SPELLED_FIRST = re.compile(rf"\s*{SPELLED.pattern}[\s.!,]+")


def spelled_name(text: str, start: int, end: int) -> tuple[int, str] | None:
    """If the name at text[start:end] is followed by a spelling of one of its words, the end of
    the spelling and the name with that word as spelled; else None.

    Args:
        text: the transcript.
        start, end: the name's span.

    Returns:
        e.g. for "Laura Ken, C-H-E-N." at (0, 9): (18, "Laura Chen").
    """
    bridge = _BRIDGE.match(text, end)
    at = bridge.end() if bridge else end
    m = SPELLED.match(text, at)
    if m is None:
        return None
    spelled = "".join(c for c in m.group() if c.isalpha())
    words = text[start:end].split()
    # The word it spells: the likeliest by sound-alike spelling ("Ken" for "CHEN").
    likeness = [difflib.SequenceMatcher(None, w.lower(), spelled.lower()).ratio() for w in words]
    best = max(range(len(words)), key=lambda i: (likeness[i], i))
    if likeness[best] < _MIN_LIKENESS:
        return None
    # A spelling within a letter of the word says the word was heard right; a dropped letter is
    # likelier in eight single letters than in one whole word ("Villanueva", "V-I-L-L-N-U-E-V-A").
    if likeness[best] < _SAME_WORD:
        words[best] = spelled.capitalize()
    return m.end() - (1 if m.group().endswith(".") else 0), " ".join(words)


def answered(text: str, sents: list[Span], asks: Callable[[Span], bool]) -> list[Span]:
    """Names said as a whole sentence right after a question asking for a name ("May I have
    your full name?" "Tamsin Okafor."), or after the surname and its spelling ("Okonkwo.
    O-K-O-N-K-W-O. Chidi Okonkwo.")."""
    out = []
    for i, (qs, qe) in enumerate(sents):
        if "name" not in text[qs:qe].lower() or not asks((qs, qe)):
            continue
        for s, e in sents[i + 1:i + 4]:
            spelled = _SPELLED_FIRST.match(text, s, e)  # "O-K-O-N-K-W-O. Chidi Okonkwo."
            if m := ANSWER.fullmatch(text, spelled.end() if spelled else s, e):
                out.append(m.span(1))
                break
            if not _SHORT.fullmatch(text, s, e):
                break
    return out
