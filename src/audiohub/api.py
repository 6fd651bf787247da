"""What every HTTP service of the hub shares, the gateway and the four stage services alike: one
error shape, the upload size guard and the inter-service token."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from audiohub import __version__
from audiohub.api_docs import ERROR_RESPONSES
from audiohub.bodylimit import BodyLimit
from audiohub.config import Settings
from audiohub.errors import AudioHubError, UnauthorizedError, describe_invalid
from audiohub.textguard import TextGuard

log = logging.getLogger("audiohub")

TOKEN_HEADER = "X-Service-Token"
# Multipart framing around the file: a Content-Length beyond limit + this cannot fit the limit.
_MULTIPART_SLACK = 64 * 1024

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]
# Renders an error for a person (the dashboard sets one on app.state.error_page).
ErrorPage = Callable[[Request, int, str, str], Response]


def new_app(
    settings: Settings, title: str, description: str, lifespan: Lifespan, *,
    body_limit: int | None = None, docs: bool = True,
) -> FastAPI:
    """A FastAPI app with the hub's error handlers and an early refusal of oversized bodies.

    Args:
        body_limit: largest request body accepted, in bytes; MAX_UPLOAD_MB when None.
        docs: FastAPI's own /docs, /redoc and /openapi.json; the gateway serves its own,
            behind a sign-in.
    """
    app = FastAPI(title=title, version=__version__, description=description, lifespan=lifespan,
                  docs_url="/docs" if docs else None, redoc_url="/redoc" if docs else None,
                  openapi_url="/openapi.json" if docs else None, responses=ERROR_RESPONSES)
    app.state.settings = settings
    install_error_handlers(app)
    app.add_middleware(TextGuard, respond=respond)  # NUL, non-UTF-8, over-long URL text: 422
    # Held while the body streams (chunked too); the upload code re-checks the file exactly.
    app.add_middleware(
        BodyLimit, limit=(body_limit or settings.max_upload_bytes) + _MULTIPART_SLACK,
        detail=f"the request is larger than MAX_UPLOAD_MB ({settings.max_upload_mb:g} MB)",
        respond=respond)
    return app


def respond(request: Request, status: int, error: str, detail: object,
            headers: Mapping[str, str] | None = None) -> Response:
    """An error as JSON, or as a page for the dashboard's paths (/ui/)."""
    page: ErrorPage | None = getattr(request.app.state, "error_page", None)
    # A person's browser asking for a page while signed out is sent to the sign-in page.
    wants_page = request.url.path.startswith("/ui/") or (
        status == 401 and "text/html" in request.headers.get("accept", "")
        and not request.url.path.startswith("/api/"))
    if page is not None and wants_page:
        response = page(request, status, error, str(detail))
        response.headers.update(headers or {})
        return response
    return error_response(status, error, detail, headers)


def error_response(status: int, error: str, detail: object,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": error, "detail": detail},
                        headers=dict(headers or {}))


def install_error_handlers(app: FastAPI) -> None:
    """One place where errors become HTTP: `{"error": ..., "detail": ...}` with the right status,
    or, for the dashboard's pages (/ui/), the same error as a page a person can read."""

    @app.exception_handler(AudioHubError)
    async def _hub_error(request: Request, exc: AudioHubError) -> Response:
        return respond(request, exc.status_code, exc.error, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return respond(request, 422, "invalid_request", describe_invalid(exc.errors()))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Same shape as every other error; the traceback goes to the log, not to the client.
        log.exception("unhandled error", exc_info=exc)
        return respond(
            request, 500, "internal_error",
            f"{type(exc).__name__}: the hub failed on this request; see the server log")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return respond(request, exc.status_code, "http_error", exc.detail)


async def require_service_token(request: Request) -> None:
    """FastAPI dependency of every stage endpoint but /health: when SERVICE_TOKEN is set, the
    caller must send it in X-Service-Token."""
    settings: Settings = request.app.state.settings
    token = settings.services.token
    if token is None:
        return
    sent = request.headers.get(TOKEN_HEADER, "")
    # Constant-time comparison: the token must not leak through response timing.
    if not hmac.compare_digest(sent.encode(), token.get_secret_value().encode()):
        raise UnauthorizedError(f"send the shared SERVICE_TOKEN in the {TOKEN_HEADER} header")


async def health_report(service: str, check: Callable[[], str]) -> JSONResponse:
    """A stage's GET /health: 200 with what was checked, or 503 saying what is broken (so load
    balancers and Kubernetes probes take the instance out instead of sending it traffic)."""
    try:
        detail = await to_thread.run_sync(check)
    except Exception as exc:  # a probe reports whatever broke; it must not crash
        return JSONResponse(status_code=503, content={
            "status": "unhealthy", "service": service, "detail": f"{type(exc).__name__}: {exc}"})
    return JSONResponse({"status": "healthy", "service": service, "detail": detail})
