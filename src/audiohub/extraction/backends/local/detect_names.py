"""Names: persons, organisations, places and street addresses.

spaCy's entities, plus token patterns built from the kinds' data (a title before a name, a
house number and a street word) and two dialogue rules that hold for any name: a name followed
by its spelling takes the spelling, and a run of capitalised words that answers a question
asking for the field is a name spaCy may have missed.
"""

from __future__ import annotations

import difflib
import functools
from typing import TYPE_CHECKING, Any

from spacy.matcher import Matcher
from spacy.util import filter_spans

from audiohub.extraction.backends.local.call import CallView, Candidate, Span
from audiohub.extraction.backends.local.dialogue import CallText, term_pattern
from audiohub.extraction.backends.local.kinds import (
    BUSINESSES,
    KINDS,
    STREETS,
    TITLES,
    UNITS,
    words,
)
from audiohub.fieldspec import FieldKind, FieldSpec

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token
    from spacy.tokens import Span as TokenSpan
    from spacy.vocab import Vocab

_LABELS: dict[str, FieldKind] = {"PERSON": "person", "ORG": "organization", "GPE": "place",
                                 "LOC": "place", "FAC": "place"}
# Titles of a profession: a name said with one is someone's doctor, not the caller.
_PROFESSIONAL = frozenset({"doctor", "dr", "professor", "nurse"})
# Capitalised words that open a reply and name nobody.
_NOT_NAMES = frozenset({"yes", "yeah", "please", "thanks", "thank", "sure", "okay", "ok", "sorry",
                        "hello", "hi", "hey", "bye", "right", "perfect", "great", "good", "i",
                        "it", "that", "the", "and", "so", "no", "well", "oh"})


@functools.lru_cache(maxsize=2)
def _matcher(vocab: Vocab) -> Matcher:
    matcher = Matcher(vocab)
    Pattern = list[dict[str, Any]]
    title: Pattern = [{"LOWER": {"IN": list(TITLES)}}, {"ORTH": ".", "OP": "?"},
                      {"IS_TITLE": True, "OP": "+"}]
    street: Pattern = [{"LIKE_NUM": True, "OP": "+"}, {"IS_TITLE": True, "OP": "+"},
                       {"LOWER": {"IN": list(STREETS)}}]
    unit: Pattern = [{"ORTH": ",", "OP": "?"}, {"LOWER": {"IN": list(UNITS)}},
                     {"ORTH": ".", "OP": "?"}, {"IS_SPACE": False, "IS_PUNCT": False}]
    town: Pattern = [{"ORTH": ","}, {"IS_TITLE": True, "POS": "PROPN", "OP": "+"}]
    matcher.add("TITLED", [title])
    # A capitalised name that ends in a business word, the business word capitalised too.
    business: Pattern = [{"IS_TITLE": True, "LOWER": {"NOT_IN": list(BUSINESSES)}, "OP": "+"},
                         {"IS_TITLE": True, "LOWER": {"IN": list(BUSINESSES)}}]
    matcher.add("BUSINESS", [business], greedy="LONGEST")
    flat: Pattern = [{"LOWER": {"IN": list(UNITS)}}, {"IS_PUNCT": False}, {"ORTH": ",", "OP": "?"}]
    matcher.add("ADDRESS", [p + t for p in (street, flat + street) for t in ([], unit, town,
                                                                             unit + town)],
                greedy="LONGEST")
    return matcher


def detect(call: CallView, field: FieldSpec) -> list[Candidate]:
    """Values of `field.kind` (person, organization, place or address) said in the call."""
    found: dict[FieldKind, list[Candidate]] = call.memo.get("names") or _all(call)
    call.memo["names"] = found
    out = list(found.get(field.kind, []))
    if isinstance(call, CallText):
        # The reply to a question asking for the field: its capitalised words for a name,
        # the whole short reply for an address ("Flat 2, 18 Holly Crescent").
        asked = term_pattern([*KINDS[field.kind].asks, *field.cues, *words(field.name)])
        for _, (s, e) in call.answers(asked):
            run = _capitalised(call.doc, s, e, kind=field.kind) if field.kind != "address" else \
                (s, e) if _addressed(call.doc, s, e) else None
            if run and not any(c.start < run[1] and run[0] < c.end for c in out):
                out.append(Candidate(*run, call.text[run[0]:run[1]], field.kind, 0.7))
    if field.kind == "person":
        out = [_titled(c, field) for c in out]
        agent = call.memo.setdefault("agent_names", _agent_names(call, found.get("person", [])))
        if field.said_by != "agent":
            out = [c for c in out if c.value.split()[0].lower() not in agent]
        out = [_spelled(call.text, c) for c in out]
    return out


def _all(call: CallView) -> dict[FieldKind, list[Candidate]]:
    doc, text = call.doc, call.text
    out: dict[FieldKind, list[Candidate]] = {}
    matches = [(doc.vocab.strings[m], doc[s:e]) for m, s, e in _matcher(doc.vocab)(doc)]
    addresses = filter_spans([m for label, m in matches if label == "ADDRESS"])
    titled = filter_spans([m for label, m in matches if label == "TITLED"])
    taken: list[Span] = [(a.start_char, a.end_char) for a in addresses]
    out["address"] = [Candidate(s, e, text[s:e], "address") for s, e in taken]
    out["person"] = [Candidate(t.start_char, t.end_char, t.text, "person") for t in titled]
    taken += [(t.start_char, t.end_char) for t in titled]
    # "Fairway Pharmacy"; not "The Pharmacy" (a name less its article must keep a word).
    business = [span for m in filter_spans([m for label, m in matches if label == "BUSINESS"])
                if (span := _trimmed(m)) is not None and " " in text[span[0]:span[1]]
                and not any(s < span[1] and span[0] < e for s, e in taken)]
    out["organization"] = [Candidate(s, e, text[s:e], "organization") for s, e in business]
    taken += business
    for ent in doc.ents:
        kind = _LABELS.get(ent.label_)
        span = _trimmed(ent) if kind is not None else None
        if kind is None or span is None or any(s < span[1] and span[0] < e for s, e in taken):
            continue
        quality = 0.8 if _is_spelling(doc, ent.start, ent.end) else 1.0
        out.setdefault(kind, []).append(Candidate(*span, text[span[0]:span[1]], kind, quality))
        if kind == "place":  # "the Walgreens on Main Street": a shop is a place and a business
            out.setdefault("organization", []).append(
                Candidate(*span, text[span[0]:span[1]], "organization", 0.8))
        if kind == "organization":
            out.setdefault("place", []).append(
                Candidate(*span, text[span[0]:span[1]], "place", 0.8))
    # Proper nouns right after the words that introduce a value of the kind ("my name is
    # Ivo Marsh", "at Boots"): spaCy misses or mislabels many names.
    kinds: tuple[FieldKind, ...] = ("person", "organization", "place")
    for kind in kinds:
        cue = term_pattern(KINDS[kind].cues)
        have = out.setdefault(kind, [])
        for m in cue.finditer(text) if cue else ():
            sent = doc.char_span(m.start(), m.end(), alignment_mode="expand")
            run = _capitalised(doc, m.end(), sent.sent.end_char if sent else len(text), True, kind)
            if run and not any(c.start < run[1] and run[0] < c.end for c in have):
                have.append(Candidate(*run, text[run[0]:run[1]], kind, 0.6))
    return out


def _addressed(doc: Doc, start: int, end: int) -> bool:
    """Whether a short reply reads as an address: a number or a street word in ten words."""
    span = doc.char_span(start, end, alignment_mode="expand")
    toks = list(span) if span is not None else []
    return len(toks) <= 12 and any(t.like_num or t.lower_ in STREETS for t in toks)


def _trimmed(ent: TokenSpan) -> Span | None:
    """An entity less a leading article and a trailing possessive ("the CVS", "Brooks's")."""
    toks = list(ent)
    # A spelled letter is no part of a name: "C, H, A, U, D, H, R, Y. Thank you".
    while toks and (toks[0].lower_ in ("the", "a", "an") or len(toks[0].text.rstrip(".")) == 1):
        toks.pop(0)
    # spaCy lets a name run into the next word: "paid Northgate Cafe I think".
    while toks and (toks[-1].lower_ in ("'s", "\u2019s") or toks[-1].pos_ in ("PUNCT", "PRON")):
        toks.pop()
    return (toks[0].idx, toks[-1].idx + len(toks[-1])) if toks else None


def _capitalised(doc: Doc, start: int, end: int, at_start: bool = False,
                 kind: FieldKind = "person") -> Span | None:
    """The first run of capitalised words (up to four, "Talbot-Hughes" one) within [start,
    end); with `at_start`, only a run that starts at the first word; no person's name for
    another `kind` ("you're speaking with Brian" names no business)."""
    run: list[Token] = []
    for tok in doc:
        if tok.idx < start or tok.idx >= end:
            continue
        joined = run and tok.text == "-" and not run[-1].whitespace_ and not tok.whitespace_
        name = tok.text[:1].isupper() and tok.lower_ not in _NOT_NAMES \
            and len(tok.text.rstrip(".")) > 1 and (kind == "person" or tok.ent_type_ != "PERSON") \
            and (tok.pos_ == "PROPN" or (bool(run) and tok.pos_ == "NOUN"))
        if (name or joined or (run and run[-1].text == "-" and tok.is_title)) and len(run) < 6:
            run.append(tok)
        elif run or at_start:
            break
    while run and run[-1].text == "-":
        run.pop()
    return (run[0].idx, run[-1].idx + len(run[-1])) if run else None


def _titled(c: Candidate, field: FieldSpec) -> Candidate:
    """A name said with a profession's title belongs to a field whose words name one."""
    first = c.value.split()[0].lower().rstrip(".")
    wants = bool(_PROFESSIONAL & {w.rstrip(".") for w in words(" ".join(
        [field.name, *field.cues]))})
    if (first in _PROFESSIONAL) == wants:
        return c
    return Candidate(c.start, c.end, c.value, c.kind, c.quality * 0.25)


def _agent_names(call: CallView, persons: list[Candidate]) -> set[str]:
    """First names the agent introduces themselves by in their greeting ("this is Anna")."""
    opening = call.opening if isinstance(call, CallText) else call.by_agent
    return {c.value.lower() for c in persons
            if " " not in c.value and opening(call.sentence(c.start))}


def _is_spelling(doc: Doc, start: int, end: int) -> bool:
    letters = [t for t in doc[start:end] if not t.is_punct]
    return len(letters) >= 3 and all(len(t.text.rstrip(".")) == 1 for t in letters)


def _spelled(text: str, c: Candidate) -> Candidate:
    """A name followed by its spelling ("Laura Ken, C-H-E-N") takes the spelled word: Whisper
    mishears unusual names but writes single letters reliably."""
    pos, letters = c.end, []
    # Up to a few words between ("that's", "spelled") before the letters start.
    gap = text[pos:pos + 30]
    for i, ch in enumerate(gap):
        if ch.isalpha() and (i + 1 >= len(gap) or not gap[i + 1].isalpha()) \
                and (i == 0 or not gap[i - 1].isalpha()):
            pos += i
            break
    while pos < len(text):
        ch = text[pos]
        nxt = text[pos + 1] if pos + 1 < len(text) else " "
        if ch.isalpha() and not nxt.isalpha():
            letters.append(ch)
        elif ch.isalpha() or ch not in " ,.-":
            break
        pos += 1
    if len(letters) < 3:
        return c
    spelled = "".join(letters)
    said = c.value.split()
    likeness = [difflib.SequenceMatcher(None, w.lower(), spelled.lower()).ratio() for w in said]
    best = max(range(len(said)), key=lambda i: (likeness[i], i))
    if not 0.5 <= likeness[best] < 0.9:
        return c
    said[best] = spelled.capitalize()
    return Candidate(c.start, c.end, " ".join(said), c.kind, c.quality)
