"""The field engine: one algorithm for every field of every category, driven by its spec.

For each field the detectors of its kind propose values (spans of the call). Each is scored by
the detector's quality times its context: how near it sits to the words that introduce the
field (its cues, its name, the words of its examples, its kind's cue words), whether it answers
a question asking for the field, and whether the expected speaker says it. One rule settles a
value said more than once, corrected or turned down. Fields then take values best first, and a
span goes to one field only. Every value is a span of the transcript.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from spacy.language import Language

from audiohub.domain import CategorySpec, Evidence, Transcript
from audiohub.extraction.backends.local import disfluency
from audiohub.extraction.backends.local.call import CallView, Candidate, Span
from audiohub.extraction.backends.local.dialogue import CallText, term_pattern
from audiohub.extraction.backends.local.kinds import KINDS, TITLES, words
from audiohub.extraction.backends.local.nlp import parse
from audiohub.fieldspec import FieldKind, FieldSpec
from audiohub.numberwords import MONTHS

Detect = Callable[[CallView, FieldSpec], list[Candidate]]
Cue = tuple[int, int, float]
# Kinds whose values are phrases of the caller's own words, scored by their detector.
_TEXT_KINDS = ("text", "choice", "yes_no")
_CODES = ("code", "digits", "phone", "email")
_MONTHS = frozenset(m.lower() for m in MONTHS)
# Words that change no value: "the 21st" is "21st", "Doctor Bennett" is "Bennett".
_FILLER = frozenset({"the", "of", "on", "at", "in", "a", *TITLES})
# The least score of a value of the kinds read from the caller's words; below it the call is taken
# not to say one. A text value's score is the scorer's chance that its span is the value (0.2
# against 0.1 lost 1 of 130 values on the tuning scripts); a choice or yes/no this far from the
# field's words is no value of it.
_LEAST = {"text": 0.2, "choice": 0.1, "yes_no": 0.1}
# How far after a vague date its more precise saying may come (characters).
_RESTATED = 100
# How far a cue reaches (characters): before the value, and after it ("May 12th instead").
_BEFORE, _AFTER, _FALLOFF = 120, 40, 25


@dataclass(frozen=True)
class _Field:
    """A field with the patterns of the words that introduce it, built once per extraction."""

    spec: FieldSpec
    cues: list[tuple[re.Pattern[str], float]]
    asked: re.Pattern[str] | None
    distinct: re.Pattern[str] | None  # its words that no other field of the category has
    roles: re.Pattern[str] | None  # words of the kind's roles that no field claims
    asked_kind: re.Pattern[str] | None  # how any value of the kind is asked for ("when")
    month: bool  # a date field that asks for a month, not a day


def _detector(kind: FieldKind) -> Detect:
    """The detector serving `kind` (kinds.py names it "module.function")."""
    module, name = KINDS[kind].detector.split(".")
    detect: Detect = getattr(
        importlib.import_module(f"audiohub.extraction.backends.local.{module}"), name)
    return detect


class FieldExtractor:
    """Finds a category's field values in a transcript."""

    def __init__(self, nlp: Language) -> None:
        self._nlp = nlp

    def extract(self, transcript: Transcript, spec: CategorySpec
                ) -> tuple[dict[str, str | None], dict[str, Evidence]]:
        """Extract every field of `spec` from `transcript`.

        Args:
            transcript: the call; values are looked up in `transcript.text`.
            spec: the category whose `fields` to fill.

        Returns:
            A value (or None) for every field, and evidence for every non-null value, where
            `transcript.text[ev.char_start:ev.char_end] == ev.text` and the times are those of
            the words overlapping the span (None when no timed word does).
        """
        text = transcript.text
        values: dict[str, str | None] = {f.name: None for f in spec.fields}
        # The engine reads the call without hesitations and stutters; spans map back.
        view = disfluency.clean(text)
        if not view.text.strip():
            return values, {}
        doc = parse(self._nlp, view.text)
        call = CallText(doc, _told_apart(transcript, [
            view.source_span(s.start_char, s.end_char)[0] for s in doc.sents]))
        picks = assign(call, spec.fields)
        words_ = transcript.timed_words()
        evidence: dict[str, Evidence] = {}
        for name, c in picks.items():
            start, end = view.source_span(c.start, c.end)
            times = [(w.start, w.end) for w in words_ if w.char_start < end and w.char_end > start]
            values[name] = c.value
            evidence[name] = Evidence(
                text=text[start:end], char_start=start, char_end=end,
                start_s=min(t[0] for t in times) if times else None,
                end_s=max(t[1] for t in times) if times else None)
        return values, evidence


def _told_apart(transcript: Transcript, starts: list[int]) -> set[int] | None:
    """The sentences (by where each starts in the transcript) that the agent says, when every
    segment is labelled with its speaker (a split stereo recording); None when not."""
    if not transcript.segments or any(s.speaker is None for s in transcript.segments):
        return None
    spans, cursor = [], 0  # each segment's place in the text: the texts joined by spaces
    for seg in transcript.segments:
        said = seg.text.strip()
        if said:
            at = transcript.text.find(said, cursor)
            if at >= 0:
                spans.append((at, seg.speaker == "agent"))
                cursor = at + len(said)
    return {i for i, start in enumerate(starts)
            if next((agent for at, agent in reversed(spans) if at <= start), False)}


def assign(call: CallText, fields: list[FieldSpec]) -> dict[str, Candidate]:
    """Each field's value: the best (field, value) pairs first, a span to one field only.

    Values of the text kinds may overlap a number or a name (a complaint mentions a date), not
    each other."""
    prepared = [_prepare(f, fields) for f in fields]
    pairs: list[tuple[float, bool, int, str, Candidate]] = []
    names = [set(words(f.name)) for f in fields]
    for f in prepared:
        found = [c for c in _detector(f.spec.kind)(call, f.spec) if c.kind == f.spec.kind
                 or f.spec.kind in _TEXT_KINDS]
        if f.spec.kind == "text":  # "order number" names a field; it is no value of another
            found = [c for c in found if not any(set(words(c.value)) <= n for n in names)]
        rivals = [r for r in prepared if r is not f and r.spec.kind == f.spec.kind]
        scored = [(score(call, f, c, rivals), c) for c in found]
        text = f.spec.kind in _TEXT_KINDS
        least = _LEAST.get(f.spec.kind, 0.0)
        pairs += [(s, text, -c.start, f.spec.name, c) for s, c in settle(call, scored)
                  if s > least]
    picked: dict[str, Candidate] = {}
    taken: dict[bool, list[Span]] = {False: [], True: []}
    for _score, text, _pos, name, c in sorted(pairs, key=lambda p: (-p[1], p[0], p[2]),
                                              reverse=True):
        if name in picked or any(a < c.end and c.start < b and not (
                text and ((c.start <= a and b <= c.end) or (a <= c.start and c.end <= b)))
                for a, b in taken[bool(text)]):
            continue  # text values may nest ("the blender I ordered arrived cracked"), not cross
        if not text and any(p.kind == c.kind and same_value(p, c) for p in picked.values()):
            continue  # the same person, date or amount said again is still one field's
        # A phrase that is mostly another field's number or name, or cuts one, is no text value.
        typed = sum(max(0, min(b, c.end) - max(a, c.start)) for a, b in taken[False])
        cuts = any(a < c.end and c.start < b and not c.start <= a < b <= c.end
                   for a, b in taken[False])
        if text and (cuts or 2 * typed >= c.end - c.start):
            continue
        picked[name] = c
        taken[bool(text)].append((c.start, c.end))
    return picked


def _prepare(f: FieldSpec, fields: list[FieldSpec]) -> _Field:
    kind = KINDS[f.kind]
    generic = {w for p in (*kind.asks, *kind.cues) for w in words(p)}
    own = [w for w in words(f.name) if len(w) > 1]
    cues: list[tuple[list[str], float]] = [(list(f.cues), 1.0), ([" ".join(own)], 0.99)]
    cues += [([w], 0.3 if w in generic else 0.6) for w in own if len(own) > 1 and len(w) > 2]
    # The words right before the value in an example ("my account number is [...]").
    leads = [" ".join(sentence[:sentence.index(value)].split()[-3:])
             for sentence, value in f.marked_examples()]
    cues += [([x for x in leads if x], 0.8), (list(kind.cues), 0.2)]
    others = {w for o in fields if o is not f and o.kind == f.kind
              for w in words(" ".join([o.name, *o.cues]))}
    mine = [w for w in own if w not in generic] + list(f.cues)
    # Roles of the kind no field of the category claims: a date after "born" is nobody's
    # booking when the category has no birth date.
    claimed = {w for o in fields if o.kind == f.kind
               for w in words(" ".join([o.name, o.description, *o.cues]))}
    roles = [w for role, said in kind.roles.items() if role not in claimed for w in said]
    return _Field(
        spec=f,
        # The field's own phrases may be said with a word or two inside ("move the flight to").
        cues=[(p, w) for terms, w in cues if (p := term_pattern(terms, gaps=w == 1.0)) is not None],
        asked=term_pattern([*(w for w in own if w not in generic), *f.cues]),
        asked_kind=term_pattern(kind.asks),
        month=f.kind == "date" and "month" in words(f"{f.name} {f.description}"),
        distinct=term_pattern([w for w in mine if w not in others and w not in generic])
        if f.kind not in _TEXT_KINDS else None,
        roles=term_pattern(roles),
    )


def _hits(call: CallText, f: _Field) -> list[Cue]:
    key = f"cues:{f.spec.name}"
    if key not in call.memo:
        call.memo[key] = [(m.start(), m.end(), w) for p, w in f.cues for m in p.finditer(call.text)]
    hits: list[Cue] = call.memo[key]
    return hits


def _near(call: CallText, cues: list[Cue], c: Candidate) -> float:
    """Nearness to the closest cue: one before the value counts fully, one after it less, one
    in an earlier sentence half unless it is the question the value answers."""
    best = 0.0
    for cs, ce, weight in cues:
        if ce <= c.start:
            gap, scale = c.start - ce, float(c.start - ce <= _BEFORE)
        elif cs >= c.end:
            gap, scale = cs - c.end, 0.7 * (cs - c.end <= _AFTER)
        else:
            gap, scale = 0, 1.0
        if scale and call.sentence(cs) != call.sentence(c.start):
            scale *= 0.9 if call.is_question(call.sentence(cs)) else 0.5
        best = max(best, weight * scale / (1 + gap / _FALLOFF))
    return best


def score(call: CallText, f: _Field, c: Candidate, rivals: list[_Field]) -> float:
    """How likely `c` is the value of field `f` (0 when it is another field's)."""
    spec, kind = f.spec, KINDS[f.spec.kind]
    if spec.kind == "text":
        # The scorer read the span's words, speaker and question (detect_text); a text field has
        # no rival cued apart from it nor role, so nothing below would change its score.
        return c.quality
    context = max(_near(call, _hits(call, f), c), _answered(call, f, c, rivals),
                  0.5 * call.accepts(call.sentence(c.start)))
    # A value cued for another field of its kind, or for a role of the kind nobody claims.
    for r in rivals:
        if r.distinct is not None and max(_near(call, _distinct(call, r), c),
                                          _answered(call, r, c, [f])) > max(context, 0.5):
            return 0.0
    roles = _distinct(call, f, roles=True)
    if roles and _near(call, roles, c) > max(context, 0.5):
        return 0.0
    sent = call.sentence(c.start)
    said = 0.3 if call.opening(sent) else 1.0
    # A field that asks for a month takes a month's name whole, though alone it is a vague date.
    if f.month and _key(c.value) in _MONTHS:
        said /= max(c.quality, 0.1)
    if spec.said_by != "either" and call.by_agent(sent) != (spec.said_by == "agent"):
        said *= 0.5
    # A question says no value (a text value that is itself asked is scored by detect_text).
    said *= 0.8 if call.is_question(sent) else 1.0
    if spec.length and spec.kind in ("code", "digits"):
        said *= 1.0 if len(re.sub(r"\W", "", c.value)) == spec.length else 0.1
    if spec.kind in _TEXT_KINDS:  # the detector read the words; the cues and question add
        return c.quality * said * (0.5 + 0.5 * context)
    return c.quality * said * max(context, kind.guess)


def _answered(call: CallText, f: _Field, c: Candidate, rivals: list[_Field]) -> float:
    """How surely `c` replies to a question asking for field `f`: 0.9 when the question says
    the field's own words, and of its kind's fields names it last, the one being asked ("You
    leave on the 20th, when would you like to go instead?"); 0.6 when it asks for the kind
    only ("When?") and names no other field; else 0."""
    for asked, sure in ((f.asked, 0.9), (f.asked_kind, 0.6)):
        key = f"answers:{f.spec.name}:{sure}"
        if key not in call.memo:
            call.memo[key] = call.answers(asked)
        for q, (s, e) in call.memo[key]:
            if not s <= c.start < c.end <= e:
                continue
            qs, qe = call.sents[q]
            last = [max((m.end() for m in r.asked.finditer(call.text, qs, qe)), default=-1)
                    if r.asked else -1 for r in [f, *rivals]]
            return sure if last[0] >= max(last) else 0.3 if sure > 0.6 else 0.0
    return 0.0


def _distinct(call: CallText, f: _Field, roles: bool = False) -> list[Cue]:
    key = f"{'roles' if roles else 'distinct'}:{f.spec.name}"
    if key not in call.memo:
        p = f.roles if roles else f.distinct
        call.memo[key] = [(m.start(), m.end(), 1.0) for m in p.finditer(call.text)] if p else []
    hits: list[Cue] = call.memo[key]
    return hits


@functools.lru_cache(maxsize=4096)
def _key(value: str) -> str:
    """A value without case, spaces or punctuation. Cached: `settle` compares every pair of a
    field's candidates, a few thousand keys a call from a few dozen values."""
    return re.sub(r"\W", "", value).lower()


def same_value(a: Candidate, b: Candidate) -> bool:
    """The same value said twice, one saying perhaps fuller than the other ("Mr. Brooks" and
    "Daniel Brooks", "the 21st" and "Tuesday the 21st of October"); for a code, also one with
    a misheard or corrected character."""
    if "text" in (a.kind, b.kind):  # a clause holding a noun is not that noun said again
        return _key(a.value) == _key(b.value)
    if a.kind in _CODES:
        x, y = _key(a.value), _key(b.value)
        if not x or not y:
            return False
        short, long_ = sorted((x, y), key=len)
        blocks = difflib.SequenceMatcher(None, short, long_).get_matching_blocks()
        kept = sum(m.size for m in blocks)
        # A read-back that drops a character or two ("GN7NRN32" read back "GN7R32") or mishears one.
        return x == y or (len(short) >= 4 and len(long_) - len(short) <= 1
                          and 2 * kept / (len(x) + len(y)) >= 0.75) or (
            len(short) >= 5 and len(long_) - len(short) <= 3 and kept >= len(short) - 1)
    said = [{_key(w) for w in x.value.split()} - _FILLER for x in (a, b)]
    return bool(said[0] and said[1]) and (said[0] <= said[1] or said[1] <= said[0])


def _restated(call: CallText, a: Candidate, b: Candidate) -> bool:
    """Whether date `b` says date `a` again more precisely, right after it and with no question
    between ("Over the weekend. Saturday night, so the 22nd of March"; "Yesterday. So that's
    the 6th of March")."""
    if a.kind != "date" or b.kind != "date" or b.start < a.end or b.quality <= a.quality:
        return False
    first, last = call.sentence(a.end), call.sentence(b.start)
    return b.start - a.end <= _RESTATED and last - first <= 2 and not any(
        call.is_question(i) for i in range(first + 1, last + 1))


def settle(call: CallText, scored: list[tuple[float, Candidate]]
           ) -> list[tuple[float, Candidate]]:
    """What the call settled on, one rule for every kind.

    A value taken back ("2908. Sorry, no, 2906") or turned down ("Friday's no good") gives way,
    and so does the earlier offer of the value turned down. A value said again (a read-back, a
    confirmation, a date said again more precisely) is one value: its standing saying (a code's
    last version, else the fullest, the first of equals) gets the best score of the group, raised
    for the repetition.
    """
    ordered = sorted(scored, key=lambda p: p[1].start)
    out: list[tuple[float, Candidate]] = []
    for i, (s, c) in enumerate(ordered):
        nxt = ordered[i + 1][1] if i + 1 < len(ordered) else None
        if nxt is not None and call.taken_back(c.end, nxt.start):
            s *= 0.1
        if call.turned_down(c.end):
            s *= 0.2
            out = [(t * 0.2 if same_value(c, d) else t, d) for t, d in out]
        out.append((s, c))
    groups: list[list[int]] = []
    for i, (_, c) in enumerate(out):
        home = next((g for g in groups if any(
            same_value(out[j][1], c) or _restated(call, out[j][1], c) for j in g)), None)
        groups.append([i]) if home is None else home.append(i)
    for g in (g for g in groups if len(g) > 1):
        last = _key(out[g[-1]][1].value)
        if out[g[0]][1].kind in _CODES:
            stands = next(j for j in g if _key(out[j][1].value) == last)
        else:
            stands = max(g, key=lambda j: (len(out[j][1].value.split()), out[j][0], -j))
        best = max(out[j][0] for j in g) * 1.15
        for j in g:
            out[j] = (best if j == stands else out[j][0] * 0.9, out[j][1])
    return out
