"""How the gateway reaches each stage. The pipeline sees only these interfaces: `Local*` runs the
stage in this process (in a worker thread, so the event loop keeps serving), an HTTP client can
take its place without the pipeline noticing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from anyio import to_thread
from starlette.responses import FileResponse, Response

from audiohub.domain import (
    CallFilter,
    CallPage,
    CallRecord,
    CallResult,
    CategorySpec,
    Classification,
    Extraction,
    Stats,
    Transcript,
    TranscriptionResult,
)
from audiohub.extraction.service import ExtractionService
from audiohub.persistence.base import Store
from audiohub.persistence.schemas import Deleted
from audiohub.prompts.generation import PromptGenerator
from audiohub.prompts.schemas import PromptCreate, PromptEdit
from audiohub.transcription.service import TranscriptionService


class TranscriptionStage(Protocol):
    async def transcribe(self, audio: Path, keyterms: Sequence[str] = ()) -> TranscriptionResult:
        ...
    async def health(self) -> str: ...


class PromptStage(Protocol):
    async def validate_and_generate(self, domain: str, category: str) -> CategorySpec | None: ...

    async def all(self) -> list[CategorySpec]:
        """The latest version of every pair."""
        ...

    async def history(self, domain: str, category: str) -> list[CategorySpec]:
        """Every version of the pair, newest first; [] for an unknown pair."""
        ...

    async def save(self, domain: str, category: str, edit: PromptEdit) -> CategorySpec:
        """Store `edit` as the pair's next version (used from the next call on) and return it.

        Raises:
            NotFoundError: the pair does not exist (edits never create pairs).
        """
        ...

    async def create(self, new: PromptCreate) -> CategorySpec:
        """Store a new pair as its version 1 (used from the next call on) and return it.

        Raises:
            ConflictError: the pair exists (`save` adds versions to it).
        """
        ...

    async def health(self) -> str: ...


class ExtractionStage(Protocol):
    async def extract(
        self, transcript: Transcript, classification: Classification, spec: CategorySpec
    ) -> Extraction: ...
    async def health(self) -> str: ...


class PersistenceStage(Protocol):
    async def save(self, record: CallRecord, audio: Path) -> int: ...
    async def get(self, call_id: int) -> CallResult: ...
    async def stats(self) -> Stats: ...
    async def page(self, f: CallFilter) -> CallPage: ...
    async def audio(self, call_id: int, range_header: str | None) -> Response:
        """The call's recording as the answer to send: 200 whole, 206 for a satisfiable
        `Range` header, 416 for one beyond the end. Raises NotFoundError."""
        ...
    async def delete(self, call_id: int) -> Deleted:
        """Remove the call, its jobs and (unless another call offers the same audio) its
        recording. Raises NotFoundError."""
        ...
    async def health(self) -> str: ...


class LocalTranscription:
    def __init__(self, service: TranscriptionService) -> None:
        self.service = service

    async def transcribe(self, audio: Path, keyterms: Sequence[str] = ()) -> TranscriptionResult:
        return await to_thread.run_sync(self.service.transcribe, audio, keyterms)

    async def health(self) -> str:
        return self.service.transcriber.health()


class LocalPrompts:
    def __init__(self, generator: PromptGenerator) -> None:
        self.generator = generator

    async def validate_and_generate(self, domain: str, category: str) -> CategorySpec | None:
        return await to_thread.run_sync(self.generator.validate_and_generate, domain, category)

    async def all(self) -> list[CategorySpec]:
        return await to_thread.run_sync(self.generator.store.all)

    async def history(self, domain: str, category: str) -> list[CategorySpec]:
        return await to_thread.run_sync(self.generator.store.history, domain, category)

    async def save(self, domain: str, category: str, edit: PromptEdit) -> CategorySpec:
        return await to_thread.run_sync(self.generator.save, domain, category, edit)

    async def create(self, new: PromptCreate) -> CategorySpec:
        return await to_thread.run_sync(self.generator.create, new)

    async def health(self) -> str:
        pairs = await to_thread.run_sync(self.generator.store.all)
        return f"{len(pairs)} domain/category pairs"


class LocalExtraction:
    def __init__(self, service: ExtractionService) -> None:
        self.service = service

    async def extract(
        self, transcript: Transcript, classification: Classification, spec: CategorySpec
    ) -> Extraction:
        return await to_thread.run_sync(self.service.extract, transcript, classification, spec)

    async def health(self) -> str:
        return self.service.analyzer.health()


class LocalPersistence:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def save(self, record: CallRecord, audio: Path) -> int:
        return await to_thread.run_sync(self.store.save, record, audio)

    async def get(self, call_id: int) -> CallResult:
        return await to_thread.run_sync(self.store.get, call_id)

    async def stats(self) -> Stats:
        return await to_thread.run_sync(self.store.stats)

    async def page(self, f: CallFilter) -> CallPage:
        return await to_thread.run_sync(self.store.page, f)

    async def audio(self, call_id: int, range_header: str | None) -> Response:
        # FileResponse reads the Range header from the request it answers, so `range_header`
        # (which the HTTP client has to forward) is not needed here.
        path, media_type = await to_thread.run_sync(self.store.audio, call_id)
        return FileResponse(path, media_type=media_type)

    async def delete(self, call_id: int) -> Deleted:
        return await to_thread.run_sync(self.store.delete, call_id)

    async def health(self) -> str:
        return await to_thread.run_sync(self.store.health)


@dataclass(frozen=True)
class Stages:
    transcription: TranscriptionStage
    prompts: PromptStage
    extraction: ExtractionStage
    persistence: PersistenceStage
