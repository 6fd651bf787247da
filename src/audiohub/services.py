"""`create_service_app(settings, stage)`: one stage of the pipeline served on its own, as the
seed's microservices are (transcription 8001, prompt 8002, extraction 8003, persistence 8004)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType

from anyio import to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from audiohub.api import new_app, require_service_token
from audiohub.components import Components
from audiohub.config import Settings, StageName
from audiohub.errors import UnauthorizedError
from audiohub.extraction import endpoints as extraction
from audiohub.health import (
    LIVE_RESPONSES,
    READY_RESPONSES,
    Live,
    Probe,
    check_parts,
    in_thread,
    readiness,
)
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


def _ready_parts(stage: StageName, app: FastAPI) -> dict[str, Probe]:
    """What this stage cannot work without: its database (prompt, persistence), its models
    (transcription, extraction; loaded by `_start` before the first request)."""
    state = app.state
    if not getattr(state, "started", False):
        return {"models" if stage in ("transcription", "extraction") else "database": _starting}
    if stage == "prompt":
        return {"database": in_thread(state.prompts.db.ping)}
    if stage == "persistence":
        return {"database": in_thread(state.store.db.ping)}
    service = state.transcription if stage == "transcription" else state.extraction
    model = service.transcriber if stage == "transcription" else service.analyzer

    async def loaded() -> str:
        # Only what is loaded: an LLM analyzer's server is /health's concern, not readiness's.
        return f"{type(model).__name__} loaded"

    return {"models": loaded}


async def _starting() -> str:
    raise RuntimeError("the service is still starting")


def _health_router(stage: StageName) -> APIRouter:
    """/health/live and /health/ready: no token needed (probes call them); what each check
    found only for callers with the SERVICE_TOKEN (or when none is set)."""
    router = APIRouter()

    @router.get("/health/live", response_model=Live, responses=LIVE_RESPONSES)
    async def live() -> Live:
        """The process answers (nothing else is checked)."""
        return Live()

    @router.get("/health/ready", response_model=None, responses=READY_RESPONSES)
    async def ready(request: Request) -> JSONResponse:
        """503 while this stage's database is down or its models are not loaded."""
        checks = await check_parts(_ready_parts(stage, request.app))
        try:
            await require_service_token(request)
            detail = True
        except UnauthorizedError:
            detail = False
        return readiness(checks, detail=detail, service=stage)

    return router


def create_service_app(settings: Settings, stage: StageName) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        parts = Components(settings)
        try:
            await to_thread.run_sync(_start, stage, app, parts)
            app.state.started = True  # models loaded: /health/ready may say ready
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
    app.include_router(module.health_router)  # ... but /health, which probes call,
    app.include_router(_health_router(stage))  # and /health/live and /health/ready
    return app
