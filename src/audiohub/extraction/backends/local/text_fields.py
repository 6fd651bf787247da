"""Free-text fields (a reason, an item, a question): the clause or phrase a cue introduces."""

from __future__ import annotations

import re

from audiohub.domain import FieldSpec
from audiohub.extraction.backends.local import cues as vocab
from audiohub.extraction.backends.local.candidates import Candidate
from audiohub.extraction.backends.local.sentences import CallText, Span, overlaps


class TextFields(CallText):
    """Finds free-text values; `typed` holds the spans of ids, amounts and times, which no
    thing's name runs into."""

    typed: list[Span]

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
                generic = cues.nominal and pat == cues.lead and hits and not overlaps(span, hits) \
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
            if (t.ent_type_ in ("DATE", "TIME", "MONEY") and end > pos) or overlaps(
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
