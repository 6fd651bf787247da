"""What every detector of the field engine reads and returns (issue 17's contract).

A detector proposes `Candidate`s of one or more field kinds from a `CallView` (the parsed call:
its text, spaCy Doc, sentences, who says each and which are questions). The engine
(engine.py) scores them against a field's spec and assigns each span to one field at most.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from audiohub.fieldspec import FieldKind, FieldSpec

if TYPE_CHECKING:
    from spacy.tokens import Doc

Span = tuple[int, int]


@dataclass(frozen=True)
class Candidate:
    """A possible value: `text[start:end]` of the call, its value as reported ("4567" for
    "four five six seven") and how sure the detector is that it is a value of `kind` (0..1)."""

    start: int
    end: int
    value: str
    kind: FieldKind
    quality: float = 1.0


class CallView(Protocol):
    """One call as the engine reads it; dialogue.CallText implements it."""

    text: str
    doc: Doc
    sents: list[Span]
    # Per-call memo for detectors: a detector stores what it computed once for the whole call
    # (all number runs, all dates) under its own key and reuses it for every field.
    memo: dict[str, Any]

    def sentence(self, pos: int) -> int:
        """Index in `sents` of the sentence holding character `pos`."""
        ...

    def by_agent(self, sent: int) -> bool:
        """Whether the agent says sentence `sent` (a best guess without diarization)."""
        ...

    def is_question(self, sent: int) -> bool:
        """Whether sentence `sent` asks something (Whisper often drops the question mark)."""
        ...


class Detector(Protocol):
    """Proposes values of the kinds it serves for one field of one call."""

    def __call__(self, call: CallView, field: FieldSpec) -> list[Candidate]: ...
