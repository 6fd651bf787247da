"""Custom vocabulary: the names, products and codes a company expects, used twice.

(Placeholder: filled in by issue 16's vocabulary work.)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from audiohub.domain import Transcript


class Vocabulary:
    """The VOCABULARY_FILE's terms, joined with a request's keyterms and a category's terms."""

    def __init__(self, terms: Sequence[str] = ()) -> None:
        self.terms = list(terms)

    @classmethod
    def load(cls, path: Path | None) -> Vocabulary:
        return cls()

    def hints(self, keyterms: Sequence[str]) -> list[str]:
        """The terms to give the decoder for one call."""
        return [*self.terms, *keyterms]

    def correct(self, transcript: Transcript, keyterms: Sequence[str]) -> Transcript:
        """Replace spans that are close phonetic and spelling matches of a term."""
        return transcript


def decode_hints(keyterms: Sequence[str],
                 mode: Literal["hotwords", "prompt", "none"]) -> dict[str, str]:
    """faster-whisper arguments that put `keyterms` before the decoder (WHISPER_KEYTERM_HINT)."""
    if not keyterms or mode == "none":
        return {}
    joined = ", ".join(keyterms)
    return {"hotwords": joined} if mode == "hotwords" else {"initial_prompt": joined}
