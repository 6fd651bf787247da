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
    409: "The change conflicts with what is stored: it was made against a version that is no "
         "longer the current one, or it creates something that exists.",
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


# The body of POST /prompts and POST /api/prompts, as the docs show it: a pair the library
# lacks, with a field of most hint kinds.
NEW_PAIR_EXAMPLES: dict[str, Any] = {
    "membership_freeze": {
        "summary": "A gym's membership freeze line",
        "value": {
            "domain": "fitness",
            "category": "membership_freeze",
            "description": "A gym member calls to pause or freeze their membership for a "
                           "while, because of travel, an injury or money, and says from when.",
            "examples": ["I'd like to freeze my gym membership for two months.",
                         "Can I put my membership on hold while I'm travelling?"],
            "fields": [
                {"name": "member_name", "kind": "person", "said_by": "customer",
                 "description": "the member's full name"},
                {"name": "membership_number", "kind": "code", "length": 8,
                 "cues": ["membership number", "member ID"],
                 "description": "the number on the membership card",
                 "examples": ["my membership number is [GY 40 21 77]"]},
                {"name": "freeze_start", "kind": "date", "description": "when the freeze begins"},
                {"name": "freeze_reason", "kind": "choice", "description": "why they pause",
                 "choices": [{"value": "travel", "synonyms": ["abroad", "trip"]},
                             {"value": "injury", "synonyms": ["hurt", "surgery"]},
                             "cost"]},
                {"name": "reason_details", "kind": "text",
                 "description": "anything else they say about why"},
            ],
        },
    },
}
