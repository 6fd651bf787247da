"""The persistence contract: store an analysed call atomically, read it back, aggregate."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from audiohub.domain import CallFilter, CallPage, CallRecord, CallResult, Stats
from audiohub.persistence.schemas import Deleted


class Store(Protocol):
    """Keeps calls. `save` writes the call, its domain data and its audio, or nothing at all."""

    def save(self, record: CallRecord, audio: Path) -> int:
        """Store the call and its recording; return the new call id."""
        ...

    def get(self, call_id: int) -> CallResult:
        """The call as the API returned it. Raises NotFoundError."""
        ...

    def page(self, f: CallFilter) -> CallPage:
        """A page of stored calls, filtered and sorted as `f` says."""
        ...

    def audio(self, call_id: int) -> tuple[Path, str]:
        """The stored recording's path and media type. Raises NotFoundError."""
        ...

    def delete(self, call_id: int) -> Deleted:
        """Remove the call, its jobs and (unless another call offers the same audio) its
        recording. Raises NotFoundError."""
        ...

    def stats(self) -> Stats:
        ...

    def health(self) -> str:
        ...
