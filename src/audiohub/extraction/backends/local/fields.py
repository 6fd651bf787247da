"""Offline field extraction: spaCy entities, typed patterns and cue phrases, no LLM.

Each field gets a kind from its name (``policy_number`` -> id, ``doctor_name`` -> person, ...).
Each kind has a candidate finder; typed patterns win over spaCy where spaCy mislabels spoken
numbers. Candidates are scored by how close they sit to the words callers use for the field and
assigned greedily, so two fields never share a span. Every value is a span of the transcript.
"""

from __future__ import annotations

import bisect
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

Span = tuple[int, int]
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


def _overlaps(a: Span, spans: list[Span]) -> bool:
    return any(a[0] < e and s < a[1] for s, e in spans)


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
        if not text.strip():
            return values, {}
        # The rules read the call without its hesitations and stutters; spans map back.
        view = disfluency.clean(text)
        if not view.text.strip():
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


class _Run:
    """One transcript's parse, its candidates per kind, and the scoring over them."""

    def __init__(self, doc: Doc, text: str) -> None:
        self.doc, self.text = doc, text
        self.sents = [(s.start_char, s.end_char) for s in doc.sents]
        self.starts = [s for s, _ in self.sents]
        self.agent = vocab.agent_sentences([text[s:e] for s, e in self.sents])
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
        ent_times = [t for t in ents.get("TIME", []) if not _overlaps(t, clock)]
        address = [m.span() for m in spoken.ADDRESS.finditer(text)]
        dates = spoken.date_spans(text, ents.get("DATE", []) + ent_times, money + clock)
        ids = [Candidate(m.start(), m.end(), v) for m in spoken.NUMBER_RUN.finditer(text)
               if (v := spoken.number_value(m.group())) is not None]
        ids += [Candidate(m.start(), m.end(), v) for m in numbers.DOTTED_ID.finditer(text)
                if (v := numbers.dotted_id(m)) is not None]
        ids = [i for i in ids if not _overlaps((i.start, i.end), money + clock + address + dates)]
        self.typed = typed = money + clock + address + [(i.start, i.end) for i in ids]
        # spaCy calls "9 9 3 1 2 7" a TIME: its times count only where no number run is.
        ent_times = [t for t in ent_times if not _overlaps(t, typed + dates)]
        self.cands: dict[Kind, list[Candidate]] = {
            "id": ids, "money": self._plain(money, value=self._money_value),
            # A month alone ("my move in May", "next month") says less than a day does: it is
            # the answer for a date only when no day is said.
            "date": [replace(c, quality=c.quality * 0.6) if numbers.VAGUE_DATE.fullmatch(c.value)
                     else c for c in self._plain(dates, value=numbers.date_value)],
            "time": self._plain(clock) + self._plain(ent_times, 0.6),
            "month": self._plain([m.span() for m in spoken.MONTH.finditer(text)]),
            "address": self._plain(address + [s for s in ents.get("FAC", [])
                                              if not _overlaps(s, address)])
            + self._plain([s for s in self._answers(vocab.ASKS_ADDRESS)
                           if not _overlaps(s, address)], 0.8),
            "person": self._persons([s for s in ents.get("PERSON", []) if not _overlaps(s, typed)]),
        }
        self.places = self._find_places(ents, typed)

    def _find_places(self, ents: dict[str, list[Span]], typed: list[Span]
                     ) -> list[tuple[str, Span]]:
        """Named places with their spaCy label, and unlabelled ones found by their context."""
        doc, text = self.doc, self.text
        # spaCy calls "The Walgreens on Main Street" a WORK_OF_ART; "Dr. Alvarez" is no place.
        typed = typed + [(c.start, c.end) for c in self._titled(self.cands["person"], None)[0]]
        # An answer to "where?" is whole ("Boots on the High Street"); spaCy has only a part.
        places = [("", s) for s in self._answered_places() if not _overlaps(s, typed)]
        # A person's name said as one ("under my wife's name, Lena Hale") is no place, nor is a
        # spelling.
        places += [(lab, s) for lab in vocab.PLACE_ENTS for s in ents.get(lab, [])
                   if not _overlaps(s, typed + [p for _, p in places])
                   and not vocab.NAME_SAID.search(text, 0, s[0])
                   and not vocab.SPELLED.match(text, s[0], s[1])]
        runs: list[Span] = []
        for t in doc:  # spaCy misses many shop names: take the proper nouns after "at"/"from"
            j = t.i + 2 if t.i + 1 < len(doc) and doc[t.i + 1].lower_ == "the" else t.i + 1
            first = j
            while t.lower_ in ("at", "from", "to") and j < len(doc) and doc[j].pos_ == "PROPN":
                j += 1
            runs += [(doc[first:j].start_char, doc[first:j].end_char)] if j > first else []
        for m in spoken.MONEY.finditer(text):  # "85 dollars to stream plus": where it went
            toks = [t for t in doc if t.idx >= m.end()][:4]
            if toks and toks[0].lower_ in ("to", "at", "from"):
                name = list(itertools.takewhile(
                    lambda t: t.is_alpha and not t.is_stop and not t.ent_type_, toks[1:]))
                runs += [(name[0].idx, name[-1].idx + len(name[-1]))] if name else []
        for span in runs:
            if not _overlaps(span, typed + [s for _, s in places]):
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

    def _sent(self, pos: int) -> int:
        return bisect.bisect_right(self.starts, pos) - 1

    def _plain(self, spans: list[Span], quality: float = 1.0,
               value: Callable[[str], str] = str) -> list[Candidate]:
        return [Candidate(s, e, value(self.text[s:e]), quality * self._agent(s)) for s, e in spans]

    def _agent(self, pos: int) -> float:
        """Agents introduce themselves and their company; those spans are rarely the caller's."""
        return 0.3 if self._sent(pos) in self.agent else 1.0

    def _persons(self, spans: list[Span]) -> list[Candidate]:
        for m in vocab.NAMED_AFTER.finditer(self.text):  # spaCy misses unusual names
            run = re.match(r"[A-Z][\w'-]+(?: [A-Z][\w'-]+){0,2}", self.text[m.end():])
            if run and not _overlaps((m.end(), m.end() + run.end()), spans):
                spans.append((m.end(), m.end() + run.end()))
        for span in names.answered(self.text, self.sents, lambda q: self._question(q[0])):
            spans += [] if _overlaps(span, spans) else [span]
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
            if score > 0 and name not in picked and not _overlaps((c.start, c.end), taken):
                picked[name] = c
        return picked

    def best_text(self, f: FieldSpec) -> Candidate | None:
        """The best cue-introduced clause or phrase for a free-text field."""
        words = [w for w in f.name.split("_") if len(w) > 2 and w not in vocab.WEAK_WORDS]
        cues = vocab.TEXT_CUES.get(f.name) or vocab.TextCues(lead="|".join(words))
        # Examples in the description are keys too: "what happened (collision, theft ...)".
        examples = [x.strip(" .") for e in re.findall(r"\(([^)]*)\)", f.description)
                    for x in e.split(",")]
        keys = "|".join([cues.keys] * bool(cues.keys) + [re.escape(x) for x in examples if x])
        hits = [m.span() for m in re.finditer(rf"\b(?:{keys})(?!\w)", self.text, re.I)] \
            if keys else []
        found: list[tuple[float, int, Span]] = []
        for weight, pat in ((1.0, cues.lead), (0.8, keys), (1.0, cues.before)):
            for m in re.finditer(rf"\b(?:{pat})(?!\w)", self.text, re.I) if pat else ():
                # A key inside a question is usually the agent asking ("lost or stolen?"),
                # unless the field is the caller's question.
                lo, hi = self._clause(*m.span())
                if pat == keys and f.name not in ("question", "topic") \
                        and self.text[lo:hi].endswith("?"):
                    continue
                span = self._after(m.end(), cues.nominal) if pat == cues.lead \
                    else self._before(m.start()) if pat == cues.before \
                    else self._around(m.span(), cues)
                if span is None:
                    continue
                # A thing named by a generic phrase ("my blood pressure pills") gives way to
                # its own name said elsewhere ("lisinopril"); a brand ("a TP-Link") is a name.
                generic = cues.nominal and pat == cues.lead and hits and not _overlaps(span, hits) \
                    and not self.text[span[0]].isupper()
                # The agent's greeting names the company ("Quick Drive car rentals").
                found.append((min(weight, 0.7 if generic else 1.0) * self._agent(m.start()),
                              -span[0], span))
        # The agent's question names the field and the next sentence answers it: "Which item
        # is it? Wireless headphones." A question for a name or a number asks for another field.
        # Not for the caller's own question: "I have a question about my policy, is my
        # jewelry covered?" is the value, and what follows is the agent's reply.
        for i, (s, e) in enumerate(self.sents[:-1] if f.name not in ("question", "topic") else []):
            asked = self.text[s:e]
            named = any(re.search(rf"\b{w}", asked, re.I) for w in words) or bool(
                cues.asked and re.search(rf"\b(?:{cues.asked})\b", asked, re.I))
            if self._question(s) and named and not vocab.ASKS_FOR_OTHER.search(asked):
                lead = vocab.ANSWER_LEAD.match(self.text, *self.sents[i + 1])
                span = self._after(lead.end() if lead else self.sents[i + 1][0], cues.nominal)
                found += [(0.9, -span[0], span)] if span else []
        if not found:
            return None
        weight, _, (s, e) = max(found)
        if weight < 1.0 and cues.widen == "clause" and hits:
            e = self._continued(e, hits)
        return Candidate(s, e, self.text[s:e])

    def _continued(self, end: int, hits: list[Span]) -> int:
        """A reason told over two sentences ("I lost my card. I must have left it in a taxi.")
        runs to the end of the next sentence's clause when that sentence has a key too."""
        i = self._sent(end - 1) + 1
        lo, hi = self.sents[i] if i < len(self.sents) else (end, end)
        inside = [h for h in hits if lo <= h[0] < hi]
        tidy = self._tidy(lo, self._clause(*inside[0])[1], False) \
            if inside and not self._question(lo) else None
        return tidy[1] if tidy else end

    def _before(self, pos: int) -> Span | None:
        """The noun phrase that ends where a `before` cue starts."""
        chunk = next((c for c in self.doc.noun_chunks
                      if c.end_char <= pos and not self.text[c.end_char:pos].strip()), None)
        if chunk is None or chunk.root.pos_ in ("PRON", "PROPN") \
                or chunk.root.lemma_.lower() in vocab.NOT_THING:
            return None  # "which one I ordered", "the charge on my order"
        return self._tidy(chunk.start_char, chunk.end_char, True)

    def _question(self, pos: int) -> bool:
        s, e = self.sents[self._sent(pos)]
        said = self.text[s:e].strip()  # Whisper often drops the question mark
        return said.endswith("?") or bool(vocab.ASKS.match(said))

    def _clause(self, start: int, end: int) -> Span:
        """The clause around [start, end): its sentence, cut at commas and conjunctions."""
        lo, hi = self.sents[self._sent(start)]
        for m in vocab.BOUNDARY.finditer(self.text, lo, hi):
            if m.end() <= start:
                lo = m.end()
            elif m.start() >= end:
                return lo, m.start()
        return lo, hi

    def _tidy(self, s: int, e: int, nominal: bool) -> Span | None:
        """Strip edges (and a thing's determiners); cap at 20 words; None if nothing is left."""
        lead = r"[\s,;:]*(?:(?:a|an|the|my|our|your|his|her|some)\s+)*" if nominal else r"[\s,;:]*"
        m = re.match(lead, self.text[s:e], re.I)
        s += m.end() if m else 0
        words = list(re.finditer(r"\S+", self.text[s:e].rstrip(" .,?!;:")))
        if nominal:  # "rental car reservation" is a rental car; "the wrong item" no thing
            while len(words) > 1 and words[-1].group().lower() in vocab.GENERIC \
                    and words[-2].group().lower() not in vocab.VAGUE:
                words.pop()
            if all(w.group().lower() in vocab.GENERIC | vocab.VAGUE for w in words):
                return None
        # A clause cut at a pause ends on no preposition: "this pain in my lower back for".
        while len(words) > 1 and words[-1].group().lower() in vocab.DANGLING:
            words.pop()
        if not words:
            return None
        return s, s + words[min(len(words), 20) - 1].end()

    def _after(self, pos: int, nominal: bool) -> Span | None:
        """What follows a lead cue: the rest of its clause, or for a thing its noun phrase."""
        if not nominal:
            return self._tidy(pos, self._clause(pos, pos)[1], False)
        toks = [t for t in self.doc if t.idx >= pos and self._sent(t.idx) == self._sent(pos)]
        end = pos
        prev = ""
        for t, nxt in zip(toks, [*toks[1:], None], strict=True):
            # "a set of six wine glasses" (Whisper: "a set on 6 wine glasses")
            of = t.lower_ == "of" or (t.lower_ == "on" and prev in vocab.CONTAINERS)
            # "a pair of walking boots": a thing's name may go on through "of" and an -ing word
            joins = nxt is not None and (nxt.pos_ in vocab.NOMINAL_POS or (
                of and nxt.tag_ == "VBG")) and (of or t.text == "-" or t.tag_ in ("VBG", "VBN"))
            prev = t.lower_
            if (t.ent_type_ in ("DATE", "TIME", "MONEY") and end > pos) or _overlaps(
                    (t.idx, t.idx + len(t)), self.typed):
                break  # "headphones last week", "order 8 2 4": a date or number is no thing
            lead = t.tag_ in ("DT", "PRP$") and end == pos
            if not (t.pos_ in vocab.NOMINAL_POS or joins or lead):
                break
            end = t.idx + len(t)
        return self._tidy(pos, end, True) if end > pos else None

    def _around(self, span: Span, cues: vocab.TextCues) -> Span | None:
        """A key widened to its noun chunk ('water damage') or to its clause."""
        if cues.widen == "chunk":
            for chunk in self.doc.noun_chunks:
                if chunk.start_char <= span[0] and span[1] <= chunk.end_char:
                    if chunk.root.lemma_.lower() in vocab.NOT_THING:
                        return None  # "phone number" is not a device
                    return self._tidy(chunk.start_char, chunk.end_char, True)
            if cues.nominal:
                return self._tidy(*span, True)
        return self._tidy(*self._clause(*span), False)
