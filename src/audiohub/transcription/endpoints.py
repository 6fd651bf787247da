"""The transcription service (the seed's port 8001): audio in; transcript, domain, category out."""

from __future__ import annotations

import binascii
import json
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from audiohub.api import health_report, require_service_token
from audiohub.config import Settings
from audiohub.errors import InvalidInputError, MissingFileError, UploadTooLargeError
from audiohub.gateway.pipeline import StagedAudio
from audiohub.gateway.uploads import stage_bytes, stage_chunks, stage_upload
from audiohub.transcription.schemas import HexAudio, TranscribeResponse
from audiohub.transcription.service import TranscriptionService

router = APIRouter(dependencies=[Depends(require_service_token)])
health_router = APIRouter()

_BODY_DOC: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"}}}},
    "application/json": {"schema": HexAudio.model_json_schema()},
}}}


async def _stage(request: Request, settings: Settings) -> StagedAudio:
    """The request's audio on local disk, whichever of the three accepted forms it came in."""
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
        except (ValueError, ValidationError, binascii.Error) as exc:
            raise InvalidInputError(
                f'expected {{"file_bytes": "<hex>", "mime_type": "..."}}: {exc}') from exc
        return await to_thread.run_sync(stage_bytes, data, body.filename, tmp, limit)
    if kind == "multipart/form-data":
        async with request.form() as form:  # closes the spooled parts when done
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise MissingFileError("send the recording as multipart form field 'file'")
            return await stage_upload(upload.file, upload.filename, tmp, limit)
    return await stage_chunks(request.stream(), request.headers.get("x-filename"), tmp, limit)


@router.post("/transcribe", response_model=TranscribeResponse, openapi_extra=_BODY_DOC)
async def transcribe(request: Request) -> TranscribeResponse:
    """Transcribe a recording and detect its domain and category.

    The body is the audio itself (`application/octet-stream`, streamed), a multipart field
    `file`, or the seed's JSON `{"file_bytes": "<hex>", "mime_type": ...}`.
    """
    service: TranscriptionService = request.app.state.transcription
    staged = await _stage(request, request.app.state.settings)
    try:
        result = await to_thread.run_sync(service.transcribe, staged.path)
    finally:
        staged.path.unlink(missing_ok=True)
    return TranscribeResponse.of(result)


@health_router.get("/health")
async def health(request: Request) -> JSONResponse:
    """Whether this service can do its work (no token needed: probes call it)."""
    service: TranscriptionService = request.app.state.transcription
    return await health_report("transcription", service.transcriber.health)
