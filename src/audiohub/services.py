"""`create_service_app(settings, stage)`: one stage of the pipeline served on its own, as the
seed's microservices are (transcription 8001, prompt 8002, extraction 8003, persistence 8004)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType

from anyio import to_thread
from fastapi import FastAPI

from audiohub.api import new_app
from audiohub.components import Components
from audiohub.config import Settings, StageName
from audiohub.extraction import endpoints as extraction
from audiohub.persistence import endpoints as persistence
from audiohub.persistence.retention import DailyPurge, policy_set
from audiohub.prompts import endpoints as prompts
from audiohub.transcription import endpoints as transcription

_ENDPOINTS: dict[StageName, ModuleType] = {
    "transcription": transcription, "prompt": prompts, "extraction": extraction,
    "persistence": persistence,
}
_TITLES: dict[StageName, str] = {
    "transcription": "Transcription Service: audio in; transcript, domain and category out",
    "prompt": "Prompt Management Service: domain/category prompts and field schemas",
    "extraction": "Extraction Service: domain fields with evidence, general metrics",
    "persistence": "Persistence Service: stored calls and totals",
}


def _start(stage: StageName, app: FastAPI, parts: Components) -> None:
    """Build (and load the models of) only what this stage needs, before serving."""
    if stage == "transcription":
        service = parts.transcription_service()
        parts.transcriber.load()
        parts.analyzer.load()  # the classifier's sentence embedder
        app.state.transcription = service
    elif stage == "prompt":
        app.state.prompts = parts.prompts
        app.state.generator = parts.prompt_generator
    elif stage == "extraction":
        app.state.extraction = parts.extraction_service()
        parts.analyzer.load()
    else:
        app.state.store = parts.store
        if policy_set(app.state.settings.auth):  # the recordings are here: so is retention
            app.state.retention = DailyPurge(parts.store, app.state.settings).start()


def create_service_app(settings: Settings, stage: StageName) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        parts = Components(settings)
        try:
            await to_thread.run_sync(_start, stage, app, parts)
            yield
        finally:
            retention: DailyPurge | None = getattr(app.state, "retention", None)
            if retention is not None:
                await to_thread.run_sync(retention.stop)
            parts.close()

    # The seed's hex-in-JSON body is twice the file's size; a saved call carries its record
    # (word timings: a few MB for an hour) beside the recording.
    body_limit = {"transcription": 2 * settings.max_upload_bytes + 4096,
                  "persistence": settings.max_upload_bytes + 64 * 1024 * 1024}.get(stage)
    app = new_app(settings, _TITLES[stage], f"Audio Magic Hub's {stage} stage.", lifespan,
                  body_limit=body_limit)
    module = _ENDPOINTS[stage]
    app.include_router(module.router)  # every endpoint needs SERVICE_TOKEN when it is set ...
    app.include_router(module.health_router)  # ... but /health, which probes call
    return app
