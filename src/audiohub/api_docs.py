"""What the OpenAPI documents every route may answer besides its success: the hub's one error
shape, for each status the shared code gives (so clients, and schema fuzzing, can rely on it)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """Every error answer: a stable machine-readable `error` and what to do about it."""

    error: str = Field(description="A stable code, e.g. not_found, invalid_request.")
    # A sentence for almost every error; a pass-through of another server's detail may be any
    # JSON value.
    detail: Any = Field(description="What went wrong and what to change.")


_WHY = {
    400: "The request cannot be used (an unknown host, an invalid value the route checks itself).",
    401: "No key, session or service token, or a wrong one.",
    403: "The caller's role may not do this, or a form lacks its CSRF token.",
    404: "No such record, route or pair.",
    409: "The change was made against a version that is no longer the current one.",
    413: "The body is larger than the limit (MAX_UPLOAD_MB), or the audio is too long.",
    415: "The bytes are not audio the hub can decode.",
    422: "A parameter or body is invalid: a wrong type, NUL or non-UTF-8 text, too long.",
    429: "Too many requests of this kind; see Retry-After.",
    503: "A stage, model or database the route needs is not available; nothing was stored.",
}

# FastAPI(responses=...): every route of the app documents these.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": why} for status, why in _WHY.items()
}
