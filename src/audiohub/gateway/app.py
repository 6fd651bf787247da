"""`create_app(settings)`: the gateway's FastAPI application for the one-process hub."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from audiohub import __version__
from audiohub.config import Settings
from audiohub.errors import AudioHubError
from audiohub.gateway.endpoints import router
from audiohub.gateway.hub import build_hub

log = logging.getLogger("audiohub")

# Multipart framing around the file: a Content-Length beyond limit + this cannot fit the limit.
_MULTIPART_SLACK = 64 * 1024


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. Settings are read here (or passed by tests), never at import time."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub = await to_thread.run_sync(build_hub, settings)
        await to_thread.run_sync(hub.load_models)
        app.state.hub = hub
        try:
            yield
        finally:
            hub.close()

    app = FastAPI(
        title="Audio Magic Hub",
        version=__version__,
        description="Self-hosted call intelligence: the seed's API, offline by default.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)

    @app.middleware("http")
    async def refuse_oversized(request: Request, call_next):  # type: ignore[no-untyped-def]
        # Refuse before Starlette spools a huge body to disk; stage_stream re-checks exactly.
        length = request.headers.get("content-length")
        limit = settings.max_upload_bytes + _MULTIPART_SLACK
        if length and length.isdigit() and int(length) > limit:
            detail = f"the request is larger than MAX_UPLOAD_MB ({settings.max_upload_mb:g} MB)"
            return _error(413, "file_too_large", detail)
        return await call_next(request)

    app.include_router(router)
    return app


def _error(status: int, error: str, detail: object) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": error, "detail": detail})


def install_error_handlers(app: FastAPI) -> None:
    """One place where errors become HTTP: `{"error": ..., "detail": ...}` with the right status."""

    @app.exception_handler(AudioHubError)
    async def _hub_error(_: Request, exc: AudioHubError) -> JSONResponse:
        return _error(exc.status_code, exc.error, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}"
            for e in exc.errors()
        ]
        return _error(422, "invalid_request", "; ".join(problems))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # Same shape as every other error; the traceback goes to the log, not to the client.
        log.exception("unhandled error", exc_info=exc)
        return _error(500, "internal_error",
                      f"{type(exc).__name__}: the hub failed on this request; see the server log")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, "http_error", exc.detail)
