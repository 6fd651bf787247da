"""Wires the pipeline's four stages: in this process, or over HTTP where `*_SERVICE_URL` says the
stage runs elsewhere. The API server, the CLI, the eval and the benchmarks all start here."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import anyio

from audiohub.components import Components
from audiohub.config import STAGES, Settings, StageName
from audiohub.domain import CallResult, TranscriptionResult
from audiohub.extraction.base import Analyzer
from audiohub.gateway.clients import (
    ExtractionStage,
    LocalExtraction,
    LocalPersistence,
    LocalPrompts,
    LocalTranscription,
    PersistenceStage,
    PromptStage,
    Stages,
    TranscriptionStage,
)
from audiohub.gateway.pipeline import Pipeline, Progress, StagedAudio
from audiohub.gateway.remote import (
    HttpExtraction,
    HttpPersistence,
    HttpPool,
    HttpPrompts,
    HttpTranscription,
    ServiceClient,
)
from audiohub.gateway.uploads import stage_stream
from audiohub.persistence.service import SqlStore
from audiohub.prompts.service import SqlPromptStore
from audiohub.transcription.base import Transcriber

T = TypeVar("T")


@dataclass
class Hub:
    settings: Settings
    parts: Components
    stages: Stages
    pipeline: Pipeline
    remote: set[StageName] = field(default_factory=set)
    pool: HttpPool | None = None

    # The local pieces, for the CLI, the eval and the benchmarks (built on first use).
    @property
    def store(self) -> SqlStore:
        return self.parts.store

    @property
    def prompts(self) -> SqlPromptStore:
        return self.parts.prompts

    @property
    def transcriber(self) -> Transcriber:
        return self.parts.transcriber

    @property
    def analyzer(self) -> Analyzer:
        return self.parts.analyzer

    def load_models(self, transcription: bool = True, analysis: bool = True) -> None:
        """Load, once at start, the models of the stages that run in this process: all of them,
        or a queue worker's share (transcription classifies too, so it needs the analyzer)."""
        if transcription and "transcription" not in self.remote:
            self.parts.transcriber.load()
        if (transcription and "transcription" not in self.remote) or (
                analysis and "extraction" not in self.remote):
            self.parts.analyzer.load()

    def load_analyzer_in_background(self) -> threading.Thread:
        """Load the analyzer while the first file is transcribed (the CLI's cold start).

        Whoever needs the analyzer first simply waits on its load lock, so no result changes.
        """
        thread = threading.Thread(target=self.parts.analyzer.load, name="load-analyzer",
                                  daemon=True)
        thread.start()
        return thread

    def process_now(self, staged: StagedAudio, progress: Progress | None = None,
                    transcribed: TranscriptionResult | None = None) -> CallResult:
        """One call, outside a server (the CLI, jobs, the eval, the benchmarks), from the start
        or, given its `transcribed` first half, from the analysis on."""
        if transcribed is None:
            return self._run(lambda: self.pipeline.process(staged, progress))
        return self._run(lambda: self.pipeline.complete(staged, transcribed, progress))

    def transcribe_now(self, staged: StagedAudio,
                       progress: Progress | None = None) -> TranscriptionResult:
        """Only the first half of a call (a transcription queue's worker)."""
        return self._run(lambda: self.pipeline.transcribe(staged, progress))

    def _run(self, work: Callable[[], Awaitable[T]]) -> T:
        """Each call outside a server runs in its own event loop, and that loop's connections to
        remote stages are closed with it."""

        async def once() -> T:
            try:
                return await work()
            finally:
                if self.pool is not None:
                    await self.pool.aclose()

        return anyio.run(once)

    def process_file(self, path: Path, limit: int | None = None,
                     keyterms: Sequence[str] = ()) -> CallResult:
        """A recording on local disk, staged exactly as an upload is (hashed; bounded by `limit`
        bytes, MAX_UPLOAD_MB by default), processed with `keyterms`, and the staged copy
        removed."""
        with path.open("rb") as f:
            staged = stage_stream(f, path.name, self.settings.data_dir / "tmp",
                                  limit or self.settings.max_upload_bytes)
        try:
            return self.process_now(dataclasses.replace(staged, keyterms=tuple(keyterms)))
        finally:
            staged.path.unlink(missing_ok=True)

    def close(self) -> None:
        self.parts.close()

    async def aclose(self) -> None:
        if self.pool is not None:
            await self.pool.aclose()
        self.close()


def build_hub(settings: Settings) -> Hub:
    """Wire each stage in-process, or as a client of its service when its URL is set.

    The local backends are constructed (not loaded) before the database is touched, so a
    misconfigured one fails the start with its own message instead of after a migration.
    """
    parts = Components(settings)
    svc = settings.services
    remote = {stage for stage in STAGES if svc.url(stage)}
    pool = HttpPool(settings.service_timeout) if remote else None

    def client(stage: StageName) -> ServiceClient:
        assert pool is not None
        return ServiceClient(stage, svc.url(stage) or "", pool, svc)

    transcription: TranscriptionStage
    if "transcription" in remote:
        transcription = HttpTranscription(client("transcription"))
    else:
        transcription = LocalTranscription(parts.transcription_service())
    extraction: ExtractionStage = (
        HttpExtraction(client("extraction")) if "extraction" in remote
        else LocalExtraction(parts.extraction_service()))
    prompts: PromptStage = (HttpPrompts(client("prompt")) if "prompt" in remote
                            else LocalPrompts(parts.prompt_generator))
    persistence: PersistenceStage = (HttpPersistence(client("persistence"))
                                     if "persistence" in remote else LocalPersistence(parts.store))
    stages = Stages(transcription=transcription, prompts=prompts, extraction=extraction,
                    persistence=persistence)
    return Hub(settings, parts, stages, Pipeline(stages, signature(settings)), remote, pool)


def signature(settings: Settings) -> str:
    """The backends and models that make a call: the same audio through the same signature
    (and the same prompt version) gives the same answer, so a job may reuse it."""
    model = settings.whisper.model if settings.transcriber == "whisper" else (
        settings.llm.gemini_model)
    analyzer: str = settings.analysis.analyzer
    if analyzer == "openai":
        analyzer += f":{settings.llm.openai_model}@{settings.llm.openai_base_url or 'openai'}"
    elif analyzer == "gemini":
        analyzer += f":{settings.llm.gemini_model}"
    return f"{settings.transcriber}:{model}|{analyzer}"[:200]
