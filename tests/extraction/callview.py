"""A CallView for testing detectors on their own, until dialogue.CallText is there: the real
spaCy pipeline over the text, sentences from its parser, questions by their mark."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from spacy.tokens import Doc

from audiohub.extraction.backends.local.nlp import load_spacy


@dataclass
class SimpleCall:
    text: str
    doc: Doc = field(init=False)
    sents: list[tuple[int, int]] = field(init=False)
    memo: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.doc = load_spacy()(self.text)
        self.sents = [(s.start_char, s.end_char) for s in self.doc.sents]

    def sentence(self, pos: int) -> int:
        return next((i for i, (s, e) in enumerate(self.sents) if s <= pos < e),
                    len(self.sents) - 1)

    def by_agent(self, sent: int) -> bool:
        return sent % 2 == 0

    def is_question(self, sent: int) -> bool:
        s, e = self.sents[sent]
        return self.text[s:e].rstrip().endswith("?")
