"""Offline field extraction: spaCy entities, typed patterns and cue phrases, no LLM.

Each field gets a kind from its name (``policy_number`` -> id, ``doctor_name`` -> person, ...).
Each kind has a candidate finder; typed patterns win over spaCy where spaCy mislabels spoken
numbers. Candidates are scored by how close they sit to the words callers use for the field and
assigned greedily, so two fields never share a span. Every value is a span of the transcript.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable
from dataclasses import replace
from typing import cast, get_args

from spacy.language import Language
from spacy.tokens import Doc

from audiohub.domain import CategorySpec, Evidence, FieldSpec, Transcript
from audiohub.extraction.backends.local import cues as vocab
from audiohub.extraction.backends.local import disfluency, names, numbers
from audiohub.extraction.backends.local import nlp as spoken
from audiohub.extraction.backends.local.candidates import Candidate, Kind, settled
from audiohub.extraction.backends.local.sentences import Span, overlaps
from audiohub.extraction.backends.local.text_fields import TextFields

Cue = tuple[int, int, float]

# Spans cued for these belong to them even when the category lacks them: a date after "date of
# birth" is never the appointment, a number after "call me at" or "error code" never the account.
_RESERVED = ("date_of_birth", "phone_number", "error_code")
# A date said with a year of the last century is a birth date, not a booking or an incident.
_BIRTH_YEAR = re.compile(r"\b19\d\d\b")
# Drug names, which spaCy tags as persons when capitalised ("Metformin").
_DRUG = re.compile(vocab.TEXT_CUES["medication"].keys, re.I)


def field_kind(spec: FieldSpec) -> Kind:
    """The kind of a field: its declared `kind` if not plain text, else guessed from its name."""
    if spec.kind != "text" and spec.kind in get_args(Kind):
        return cast(Kind, spec.kind)
    name = spec.name.lower()
    if name in vocab.PLACE_LABELS:
        return "place"
    for ends, kind in vocab.KIND_SUFFIXES:
        if name.endswith(ends):
            return cast(Kind, kind)
    return "date" if "date" in name or name.endswith("_day") else "text"


class FieldExtractor:
    """Finds a category's field values in a transcript with spaCy plus typed patterns."""

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
        # The rules read the call without its hesitations and stutters; spans map back.
        view = disfluency.clean(text)
        if not view.text.strip():  # an empty call, or one of hesitations only
            return values, {}
        run = _Run(spoken.parse(self._nlp, view.text), view.text)
        picks = run.assign_typed([f for f in spec.fields if field_kind(f) != "text"])
        for f in spec.fields:
            if field_kind(f) == "text" and (cand := run.best_text(f)) is not None:
                picks[f.name] = cand
        words = transcript.timed_words()
        evidence: dict[str, Evidence] = {}
        for name, c in picks.items():
            start, end = view.source_span(c.start, c.end)
            times = [(w.start, w.end) for w in words if w.char_start < end and w.char_end > start]
            values[name] = c.value
            evidence[name] = Evidence(
                text=text[start:end], char_start=start, char_end=end,
                start_s=min(t[0] for t in times) if times else None,
                end_s=max(t[1] for t in times) if times else None)
        return values, evidence


class _Run(TextFields):
    """One transcript's parse, its candidates per kind, and the scoring over them."""

    def __init__(self, doc: Doc, text: str) -> None:
        super().__init__(doc, text)
        ents: dict[str, list[Span]] = {}
        for e in doc.ents:
            ents.setdefault(e.label_, []).append((e.start_char, e.end_char))
        # The agent's own name, wherever it is said again ("Hi Jessica", "Thanks, Jessica").
        self.agent_names = {text[s:e].lower() for s, e in ents.get("PERSON", [])
                            if self._sent(s) in self.agent and " " not in text[s:e]}
        self.agent_names |= {m.group(1).lower() for m in vocab.GREETED.finditer(text)}
        # spaCy does not always tag the agent's name ("my name is Troy"): their introduction does.
        self.agent_names |= {m.group(1).lower() for m in vocab.INTRODUCED.finditer(text)
                             if self._sent(m.start()) in self.agent}
        money = spoken.money_spans(text, ents.get("MONEY", []))
        clock = [m.span() for m in spoken.TIME.finditer(text)]
        ent_times = [t for t in ents.get("TIME", []) if not overlaps(t, clock)]
        address = [m.span() for m in spoken.ADDRESS.finditer(text)]
        dates = spoken.date_spans(text, ents.get("DATE", []) + ent_times, money + clock)
        ids = [Candidate(m.start(), m.end(), v) for m in spoken.NUMBER_RUN.finditer(text)
               if (v := spoken.number_value(m.group())) is not None]
        ids += [Candidate(m.start(), m.end(), v) for m in numbers.DOTTED_ID.finditer(text)
                if (v := numbers.dotted_id(m)) is not None]
        ids = [i for i in ids if not overlaps((i.start, i.end), money + clock + address + dates)]
        self.typed = typed = money + clock + address + [(i.start, i.end) for i in ids]
        # spaCy calls "9 9 3 1 2 7" a TIME: its times count only where no number run is.
        ent_times = [t for t in ent_times if not overlaps(t, typed + dates)]
        self.cands: dict[Kind, list[Candidate]] = {
            "id": ids, "money": self._plain(money, value=self._money_value),
            # A month alone ("my move in May", "next month") says less than a day does: it is
            # the answer for a date only when no day is said.
            "date": [replace(c, quality=c.quality * 0.6) if numbers.VAGUE_DATE.fullmatch(c.value)
                     else c for c in self._plain(dates, value=numbers.date_value)],
            "time": self._plain(clock) + self._plain(ent_times, 0.6),
            "month": self._plain([m.span() for m in spoken.MONTH.finditer(text)]),
            "address": self._plain(address + [s for s in ents.get("FAC", [])
                                              if not overlaps(s, address)])
            + self._plain([s for s in self._answers(vocab.ASKS_ADDRESS)
                           if not overlaps(s, address)], 0.8),
            "person": self._persons([s for s in ents.get("PERSON", []) if not overlaps(s, typed)]),
        }
        self.places = self._find_places(ents, typed)

    def _find_places(self, ents: dict[str, list[Span]], typed: list[Span]
                     ) -> list[tuple[str, Span]]:
        """Named places with their spaCy label, and unlabelled ones found by their context."""
        doc, text = self.doc, self.text
        # spaCy calls "The Walgreens on Main Street" a WORK_OF_ART; "Dr. Alvarez" is no place.
        typed = typed + [(c.start, c.end) for c in self._titled(self.cands["person"], None)[0]]
        # An answer to "where?" is whole ("Boots on the High Street"); spaCy has only a part.
        places = [("", s) for s in self._answered_places() if not overlaps(s, typed)]
        # A person's name said as one ("under my wife's name, Lena Hale") is no place, nor is a
        # spelling ("K-A-H-A-L-E", which spaCy sometimes tags as an organisation).
        places += [(lab, s) for lab in vocab.PLACE_ENTS for s in ents.get(lab, [])
                   if not overlaps(s, typed + [p for _, p in places])
                   and not vocab.NAME_SAID.search(text, 0, s[0])
                   and not names.SPELLED.match(text, s[0], s[1])]
        runs: list[Span] = []
        for t in doc:  # spaCy misses many shop names: take the proper nouns after "at"/"from"
            if t.lower_ not in ("at", "from", "to"):
                continue
            first = j = t.i + 2 if t.i + 1 < len(doc) and doc[t.i + 1].lower_ == "the" else t.i + 1
            while j < len(doc) and doc[j].pos_ == "PROPN":
                j += 1
            runs += [(doc[first:j].start_char, doc[first:j].end_char)] if j > first else []
        for m in spoken.MONEY.finditer(text):  # "85 dollars to stream plus": where it went
            toks = [t for t in doc if t.idx >= m.end()][:4]
            if toks and toks[0].lower_ in ("to", "at", "from"):
                name = list(itertools.takewhile(
                    lambda t: t.is_alpha and not t.is_stop and not t.ent_type_, toks[1:]))
                runs += [(name[0].idx, name[-1].idx + len(name[-1]))] if name else []
        for span in runs:
            if not overlaps(span, typed + [s for _, s in places]):
                places.append(("", span))
        # The agent's own name is no place ("Pharmacy line, this is Jo").
        return [(lab, (s, e)) for lab, (s, e) in places
                if self.text[s:e].lower() not in self.agent_names]

    def _answered_places(self) -> list[Span]:
        """Proper nouns that answer "where?": "Where should we send it?" "Boots on the High
        Street, please." The run may go on through "on"/"in" to a street or town."""
        out = []
        for (qs, qe), (s, e) in itertools.pairwise(self.sents):
            if not (self._question(qs) and vocab.ASKS_WHERE.search(self.text, qs, qe)):
                continue
            span = self.doc.char_span(s, e, alignment_mode="expand")
            toks = list(span) if span is not None else []
            while toks and toks[0].pos_ in ("DET", "ADP", "INTJ", "PUNCT"):
                toks.pop(0)
            # spaCy often calls a shop's name at a sentence start a noun ("Boots").
            name = [t.pos_ == "PROPN" or (t.pos_ == "NOUN" and t.text[:1].isupper())
                    for t in toks]
            run = [t for t, _ in itertools.takewhile(
                lambda p: p[1] or p[0].lower_ in ("on", "in", "the"), zip(toks, name, strict=True))]
            while run and not name[len(run) - 1]:
                run.pop()
            if run and name[0]:
                out.append((run[0].idx, run[-1].idx + len(run[-1])))
        return out

    @functools.cached_property
    def _declined(self) -> set[int]:
        """Sentences holding an offer the caller turned down ("Friday at half past four?"
        "Friday's no good."): the turning down, and the last sentence before it that said the
        same day or time."""
        out: set[int] = set()
        for c in self.cands["date"] + self.cands["time"]:
            if not vocab.TURNED_DOWN.match(self.text, c.end):
                continue
            said, here = self.text[c.start:c.end].lower(), self._sent(c.start)
            out.add(here)
            offered = [i for i in range(here) if said in self.text[slice(*self.sents[i])].lower()]
            out |= set(offered[-1:])
        return out

    def _answers(self, asks: re.Pattern[str]) -> list[Span]:
        """Whole short answers to a question `asks` matches: "And the service address?"
        "Forty Willow Creek Drive." An address Whisper wrote without its number is still one."""
        out = []
        for (qs, qe), (s, e) in itertools.pairwise(self.sents):
            # Whisper often writes the agent's short question as a statement: "And the
            # service address."
            asked = self._question(qs) or bool(vocab.ELLIPTIC.match(self.text[qs:qe]))
            if not (asked and asks.search(self.text, qs, qe)) or self._question(s):
                continue
            lead = vocab.ANSWER_LEAD.match(self.text, s, e)
            start = lead.end() if lead else s
            said = self.text[start:e].rstrip(" .!,")
            if 0 < len(said.split()) <= 10 and re.search(r"[A-Z0-9]", said):
                out.append((start, start + len(said)))
        return out

    @functools.cached_property
    def _currency(self) -> str:
        return spoken.currency_of(self.text)

    def _money_value(self, said: str) -> str:
        """An amount as said; a bare price ("89.99") with the call's currency sign."""
        if spoken.PRICE.fullmatch(said):
            return self._currency + said
        return numbers.money_value(said)

    def _plain(self, spans: list[Span], quality: float = 1.0,
               value: Callable[[str], str] = str) -> list[Candidate]:
        return [Candidate(s, e, value(self.text[s:e]), quality * self._agent(s)) for s, e in spans]

    def _persons(self, spans: list[Span]) -> list[Candidate]:
        for m in vocab.NAMED_AFTER.finditer(self.text):  # spaCy misses unusual names
            run = re.match(r"[A-Z][\w'-]+(?: [A-Z][\w'-]+){0,2}", self.text[m.end():])
            if run and not overlaps((m.end(), m.end() + run.end()), spans):
                spans.append((m.end(), m.end() + run.end()))
        for span in names.answered(self.text, self.sents, lambda q: self._question(q[0])):
            spans += [] if overlaps(span, spans) else [span]
        out = []
        for s, e in spans:
            e -= 2 if self.text[s:e].endswith("'s") else 0
            full = 1.0 if " " in self.text[s:e] else 0.8  # "John Smith" over a later "Mr. Smith"
            said = self.text[s:e].lower()
            if said in self.agent_names or next(iter(said.split()), "") in self.agent_names:
                continue  # the agent's own name is never the caller's, wherever it is said
            agent = self._agent(s)
            # A name in a question addresses or checks; the caller states theirs.
            asked = 0.6 if self._question(s) else 1.0
            asked *= 0.2 if _DRUG.fullmatch(self.text[s:e]) else 1.0
            end, value = names.spelled_name(self.text, s, e) or (e, self.text[s:e])
            out.append(Candidate(s, end, value, agent * full * asked))
        return out

    def _place_cands(self, name: str) -> list[Candidate]:
        preferred = vocab.PLACE_LABELS.get(name, ("ORG", "GPE", "FAC", "LOC"))
        out = []
        for label, (s, e) in self.places:
            after = re.match(rf"\s+{re.escape(name)}\b", self.text[e:], re.I)
            e += after.end() if after else 0  # "the CVS pharmacy" -> "CVS pharmacy"
            the = re.match(r"(?:the|a|an)\s+", self.text[s:e], re.I)
            s += the.end() if the and the.end() < e - s else 0
            quality = 1.0 if label in preferred else 0.5 if label == "PERSON" else 0.8
            out.append(Candidate(s, e, self.text[s:e], quality * self._agent(s)))
        return out

    def _title(self, name: str) -> str | None:
        return next((t for k, t in vocab.TITLES.items() if name.startswith(k)), None)

    def _cues(self, name: str, kind: Kind) -> list[Cue]:
        words = [w for w in name.lower().split("_") if w]
        pats = [(" ".join(words), 1.0)] + ([(vocab.CUES[name], 1.0)] if name in vocab.CUES else [])
        pats += [(w, 0.3 if w in vocab.WEAK_WORDS else 0.6) for w in words if len(words) > 1]
        if kind == "person" and not self._title(name):
            pats.append((vocab.INTRO, 1.0))
        if kind in ("date", "time"):  # "When did the charge go through? This evening."
            pats.append((vocab.WHEN, 0.6))
        if kind == "place":  # "Where should we send it? Boots on the High Street."
            pats.append((vocab.ASKS_WHERE.pattern, 0.6))
        return [(m.start(), m.end(), w) for p, w in pats
                for m in re.finditer(rf"\b(?:{p})\b", self.text, re.I)]

    def _score(self, cues: list[Cue], c: Candidate) -> float:
        """Nearness to the closest cue: one before the value counts fully, one after less."""
        best = 0.0
        for cs, ce, weight in cues:
            if ce <= c.start:
                gap, scale = c.start - ce, 1.0 if c.start - ce <= 120 else 0.0
            elif cs >= c.end:
                gap, scale = cs - c.end, 0.7 if cs - c.end <= 40 else 0.0  # "May 12th instead"
            else:
                gap, scale = 0, 1.0
            best = max(best, weight * scale / (1 + gap / 25) * self._link(cs, c.start))
        return best

    def _link(self, cue: int, value: int) -> float:
        """How much a cue in another sentence still counts: fully when it is the question the
        value answers ("Your date of birth? It's July 4th."), half otherwise."""
        i, j = self._sent(cue), self._sent(value)
        if i == j:
            return 1.0
        # "What's your name? Please. I meant Hassan.": a short reply may sit in between.
        between = [self.text[s:e] for s, e in self.sents[i + 1:j]]
        answers = i < j and self._question(cue) and len(between) <= 1 and all(
            len(b.split()) <= 3 for b in between)
        return 0.9 if answers else 0.5

    def _candidates(self, name: str, kind: Kind) -> list[Candidate]:
        if kind == "place":
            return self._place_cands(name)
        cands = self.cands.get(kind, [])
        if kind == "id" and "four" in name:
            cands = [c for c in cands if len(c.value) == 4 and c.value.isdigit()]
        if kind == "person":
            titled, plain = self._titled(cands, self._title(name))
            return titled if self._title(name) else plain
        return cands

    def _titled(self, cands: list[Candidate], title: str | None
                ) -> tuple[list[Candidate], list[Candidate]]:
        """Persons said with `title` (a doctor's by default), title included, and the others.

        spaCy keeps the title inside the entity ("Dr Patel") or not ("Dr. Patel" -> "Patel"):
        look for it at the entity's start or just before it."""
        pattern = title or vocab.TITLES["doctor"]
        titled, plain = [], []
        for c in cands:
            before = re.search(rf"\b{pattern}\s*$", self.text[:c.start])
            at = c.start if re.match(rf"{pattern}\s", self.text[c.start:c.end], re.I) \
                else before.start() if before else None
            if at is None:
                plain.append(c)
                continue
            titled.append(Candidate(at, c.end, spoken.title_said(self.text[at:c.end]), c.quality))
        return titled, plain

    def assign_typed(self, fields: list[FieldSpec]) -> dict[str, Candidate]:
        """Best (field, candidate) pairs first; a span goes to one field only."""
        pairs: list[tuple[float, int, str, Candidate]] = []
        names = {f.name for f in fields}
        for f in fields:
            kind = field_kind(f)
            own = self._cues(f.name, kind)
            rivals = [self._cues(n, kind) for n in _RESERVED
                      if n not in names and field_kind(FieldSpec(name=n)) == kind]
            scored = []
            for c in self._candidates(f.name, kind):
                cue = self._score(own, c)
                if any(self._score(r, c) > max(cue, 0.5) for r in rivals):
                    continue
                # Uncued, an entity of the right kind may still be the answer; places are too
                # common to guess.
                quality = c.quality * (0.3 if kind == "date" and f.name != "date_of_birth"
                                       and _BIRTH_YEAR.search(c.value) else 1.0)
                quality *= 0.2 if self._sent(c.start) in self._declined else 1.0
                scored.append((quality * max(cue, 0.0 if kind == "place" else 0.05), c))
            # Earlier mentions win ties.
            pairs += [(score, -c.start, f.name, c) for score, c in settled(self.text, scored, kind)]
        picked: dict[str, Candidate] = {}
        for score, _, name, c in sorted(pairs, key=lambda p: p[:2], reverse=True):
            taken = [(p.start, p.end) for p in picked.values()]
            if score > 0 and name not in picked and not overlaps((c.start, c.end), taken):
                picked[name] = c
        return picked
