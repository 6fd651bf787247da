"""The transcription service (the seed's port 8001): audio in; transcript, domain, category out."""

from __future__ import annotations

import binascii
import json
from dataclasses import replace
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from audiohub.api import health_report, require_service_token
from audiohub.config import Settings
from audiohub.errors import InvalidInputError, MissingFileError, UploadTooLargeError
from audiohub.gateway.pipeline import StagedAudio
from audiohub.gateway.uploads import stage_bytes, stage_chunks, stage_upload
from audiohub.transcription.schemas import (
    KEYTERMS_DOC,
    HexAudio,
    KeytermText,
    TranscribeResponse,
    clean_keyterms,
)
from audiohub.transcription.service import TranscriptionService

router = APIRouter(dependencies=[Depends(require_service_token)])
health_router = APIRouter()

_BODY_DOC: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"},
        "keyterms": {"type": "array", "items": {"type": "string"},
                     "description": KEYTERMS_DOC}}}},
    "application/json": {"schema": HexAudio.model_json_schema()},
}}}


_FORM_KEYTERMS: TypeAdapter[list[str]] = TypeAdapter(KeytermText)


def _bad_keyterms(errors: list[Any]) -> RequestValidationError:
    """A 422 `invalid_request` naming the keyterm problem, like the query parameter's."""
    return RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors])


async def _stage(request: Request, settings: Settings) -> StagedAudio:
    """The request's audio on local disk, whichever of the three accepted forms it came in,
    with the keyterms the JSON body or the multipart form carries."""
    tmp, limit = settings.data_dir / "tmp", settings.max_upload_bytes
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        raw = bytearray()
        async for block in request.stream():  # bounded even when sent without Content-Length
            raw += block
            if len(raw) > 2 * limit + 4096:
                raise UploadTooLargeError(
                    f"the hex-encoded file is larger than MAX_UPLOAD_MB ({limit / 1048576:g} MB)")
        try:
            body = HexAudio.model_validate(json.loads(raw))
            data = bytes.fromhex(body.file_bytes)
        except ValidationError as exc:
            if errors := [e for e in exc.errors() if e["loc"][:1] == ("keyterms",)]:
                raise _bad_keyterms(errors) from None
            raise InvalidInputError(
                f'expected {{"file_bytes": "<hex>", "mime_type": "..."}}: {exc}') from exc
        except (ValueError, binascii.Error) as exc:
            raise InvalidInputError(
                f'expected {{"file_bytes": "<hex>", "mime_type": "..."}}: {exc}') from exc
        staged = await to_thread.run_sync(stage_bytes, data, body.filename, tmp, limit)
        return replace(staged, keyterms=tuple(body.keyterms))
    if kind == "multipart/form-data":
        async with request.form() as form:  # closes the spooled parts when done
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise MissingFileError("send the recording as multipart form field 'file'")
            try:
                terms = _FORM_KEYTERMS.validate_python(
                    [t for t in form.getlist("keyterms") if isinstance(t, str)])
            except ValidationError as exc:
                raise _bad_keyterms([{**e, "loc": ("keyterms",)} for e in exc.errors()]) from None
            staged = await stage_upload(upload.file, upload.filename, tmp, limit)
            return replace(staged, keyterms=tuple(terms))
    return await stage_chunks(request.stream(), request.headers.get("x-filename"), tmp, limit)


@router.post("/transcribe", response_model=TranscribeResponse, openapi_extra=_BODY_DOC)
async def transcribe(
    request: Request,
    keyterms: Annotated[KeytermText | None, Query(description=KEYTERMS_DOC)] = None,
) -> TranscribeResponse:
    """Transcribe a recording and detect its domain and category.

    The body is the audio itself (`application/octet-stream`, streamed), a multipart field
    `file`, or the seed's JSON `{"file_bytes": "<hex>", "mime_type": ...}`. Keyterms (words to
    expect) come as the query parameter `keyterms` (how the gateway sends them with the
    streamed body), the multipart field `keyterms`, or the JSON body's `keyterms` list.
    """
    service: TranscriptionService = request.app.state.transcription
    staged = await _stage(request, request.app.state.settings)
    try:
        terms = clean_keyterms([*staged.keyterms, *(keyterms or ())])
    except ValueError as exc:
        staged.path.unlink(missing_ok=True)
        raise RequestValidationError(
            [{"loc": ("keyterms",), "msg": str(exc), "type": "value_error"}]) from None
    try:
        result = await to_thread.run_sync(service.transcribe, staged.path, terms)
    finally:
        staged.path.unlink(missing_ok=True)
    return TranscribeResponse.of(result)


@health_router.get("/health")
async def health(request: Request) -> JSONResponse:
    """Whether this service can do its work (no token needed: probes call it)."""
    service: TranscriptionService = request.app.state.transcription
    return await health_report("transcription", service.transcriber.health)
