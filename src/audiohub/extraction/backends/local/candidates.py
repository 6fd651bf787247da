"""Field value candidates, and what a call settled on when it says a value more than once."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

from audiohub.extraction.backends.local import cues as vocab

Kind = Literal["id", "person", "date", "month", "time", "money", "address", "place", "text"]
# Kinds whose repeated value is the one agreed. Not dates and amounts: a call repeats both the
# old and the new date of a change, and the amount a caller rules out ("26 dollars was me").
_SETTLED = ("id", "time", "person")


@dataclass(frozen=True)
class Candidate:
    """A possible value: a span of the transcript and its value ('4567' for '4 5 6 7')."""

    start: int
    end: int
    value: str
    quality: float = 1.0


_TITLES = {"mr", "mrs", "ms", "miss", "mister", "missus", "dr", "doctor"}


def _key(value: str) -> str:
    return re.sub(r"\W", "", value).lower()


def same_value(a: str, b: str, kind: Kind) -> bool:
    """The same value said twice; for an id, also one with a misheard or corrected digit; for a
    person, also part of the name ("Sarah", "Mr. Mitchell" and "Sarah Mitchell")."""
    if kind == "person":
        words = [{_key(w) for w in x.split()} - _TITLES for x in (a, b)]
        return bool(words[0] and words[1]) and (words[0] <= words[1] or words[1] <= words[0])
    a, b = _key(a), _key(b)
    if a == b:
        return bool(a)
    return kind == "id" and min(len(a), len(b)) >= 4 and abs(len(a) - len(b)) <= 1 \
        and difflib.SequenceMatcher(None, a, b).ratio() >= 0.75


def settled(text: str, scored: list[tuple[float, Candidate]], kind: Kind
            ) -> list[tuple[float, Candidate]]:
    """What the call settled on. A value said again (the agent's read-back, the caller's
    confirmation) is one value, scored by its best saying and raised a little for being
    repeated. An id said again with a digit changed ("927153, sorry, 927453") is the same
    id, corrected: the last version stands. A value taken back ("2908. Sorry, no, 2906")
    gives way to the one that follows it."""
    ordered = sorted(scored, key=lambda p: p[1].start)
    out: list[tuple[float, Candidate]] = []
    for i, (score, c) in enumerate(ordered):
        back = vocab.TAKEN_BACK.match(text, c.end)
        # The next value follows the take-back, perhaps after a few words ("that's just gone").
        if i + 1 < len(ordered) and back and 0 <= ordered[i + 1][1].start - back.end() <= 24:
            score *= 0.1
        out.append((score, c))
    if kind not in _SETTLED:
        return out
    groups: list[list[int]] = []
    for i, (_, c) in enumerate(out):
        home = next((g for g in groups
                     if any(same_value(out[j][1].value, c.value, kind) for j in g)), None)
        if home is None:
            groups.append([i])
        else:
            home.append(i)
    for g in (g for g in groups if len(g) > 1):
        last = _key(out[g[-1]][1].value)
        # Its first saying in the final version: the caller's own words, not the read-back. A
        # person is their fullest name.
        stands = max(g, key=lambda j: (len(out[j][1].value.split()), -j)) if kind == "person" \
            else next(j for j in g if _key(out[j][1].value) == last)
        best = max(out[j][0] for j in g) * 1.15
        for j in g:
            out[j] = (best if j == stands else out[j][0] * 0.9, out[j][1])
    return out
