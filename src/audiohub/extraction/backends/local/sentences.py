"""A call's sentences, and which of them the agent says: what every field rule reads first."""

from __future__ import annotations

import bisect

from spacy.tokens import Doc

from audiohub.extraction.backends.local import cues as vocab

Span = tuple[int, int]


def overlaps(a: Span, spans: list[Span]) -> bool:
    return any(a[0] < e and s < a[1] for s, e in spans)


class CallText:
    """The parsed call, its sentence spans and the agent's sentences."""

    def __init__(self, doc: Doc, text: str) -> None:
        self.doc, self.text = doc, text
        self.sents = [(s.start_char, s.end_char) for s in doc.sents]
        self.starts = [s for s, _ in self.sents]
        self.agent = vocab.agent_sentences([text[s:e] for s, e in self.sents])

    def _sent(self, pos: int) -> int:
        return bisect.bisect_right(self.starts, pos) - 1

    def _agent(self, pos: int) -> float:
        """Agents introduce themselves and their company; those spans are rarely the caller's."""
        return 0.3 if self._sent(pos) in self.agent else 1.0

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
