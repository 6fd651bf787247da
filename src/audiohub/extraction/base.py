"""The analyzer contract: classify a transcript, then extract its fields and general metrics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Protocol

from audiohub.domain import CategorySpec, Classification, Extraction, Transcript


class Analyzer(Protocol):
    """One backend kind for stage 1's detection and stage 2's analysis (local, LLM ...)."""

    name: ClassVar[str]
    # The transcript languages (Whisper codes) it can analyse; None: any. A call in another
    # language gets needs_review (extraction/confidence.py).
    languages: ClassVar[frozenset[str] | None]

    def classify(
        self, transcript: Transcript, candidates: Sequence[CategorySpec]
    ) -> Classification:
        """Pick the domain/category among `candidates` (the prompt store's pairs).

        Backends that cannot invent pairs answer general/general_inquiry when nothing fits.
        """
        ...

    def extract(
        self, transcript: Transcript, classification: Classification, spec: CategorySpec
    ) -> Extraction:
        """Fill `spec`'s fields (each value grounded in the transcript) and the general metrics."""
        ...

    def load(self) -> None:
        """Load models now, so the first request does not pay for it (idempotent)."""
        ...

    def health(self) -> str:
        ...
