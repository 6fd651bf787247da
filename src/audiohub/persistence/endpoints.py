"""The persistence service (the seed's port 8004): store analysed calls, read them back, totals."""

from __future__ import annotations

from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from pydantic import ValidationError

from audiohub.api import health_report, require_service_token
from audiohub.config import Settings
from audiohub.domain import MAX_ID, CallFilter, CallPage, CallRecord, CallResult, Stats
from audiohub.errors import InvalidInputError
from audiohub.gateway.uploads import stage_upload
from audiohub.persistence.schemas import Deleted, SaveResponse
from audiohub.persistence.service import SqlStore

router = APIRouter(dependencies=[Depends(require_service_token)])
health_router = APIRouter()


def _store(request: Request) -> SqlStore:
    store: SqlStore = request.app.state.store
    return store


@router.post("/save", response_model=SaveResponse)
async def save(
    request: Request,
    # A file part, not a form field: an hour's word timings are larger than the 1 MB a form
    # field may hold.
    record: Annotated[UploadFile, File(description="The analysed call (CallRecord) as JSON.")],
    audio: Annotated[UploadFile, File(description="The recording, raw bytes.")],
) -> SaveResponse:
    """Store the call, its domain data and its recording together, or nothing at all."""
    try:
        call = CallRecord.model_validate_json(await record.read())
    except ValidationError as exc:
        raise InvalidInputError(f"record is not a valid CallRecord: {exc}") from exc
    settings: Settings = request.app.state.settings
    staged = await stage_upload(audio.file, audio.filename, settings.data_dir / "tmp",
                                settings.max_upload_bytes)
    try:
        # The store files recordings by their hash: it must be the hash of these bytes.
        if staged.sha256 != call.audio_sha256:
            raise InvalidInputError(
                f"record.audio_sha256 {call.audio_sha256[:16]}... is not the sha256 of the "
                f"uploaded audio ({staged.sha256[:16]}...)")
        call_id = await to_thread.run_sync(_store(request).save, call, staged.path)
    finally:
        staged.path.unlink(missing_ok=True)
    return SaveResponse(success=True, call_id=call_id)


@router.get("/call/{call_id}", response_model=None, responses={200: {"model": CallResult}})
async def get_call(
    request: Request, call_id: Annotated[int, Path(ge=1, le=MAX_ID)], segments: bool = False
) -> JSONResponse:
    """A stored call, as the gateway returned it, with who submitted it (`submitted_by`) and
    whether retention removed its recording (`audio_removed`), for the gateway's checks."""
    result = await to_thread.run_sync(_store(request).get, call_id)
    return JSONResponse({**result.output(segments), "submitted_by": result.submitted_by,
                         "audio_removed": result.audio_removed})


@router.delete("/call/{call_id}", response_model=Deleted)
async def delete_call(request: Request,
                      call_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Deleted:
    """Remove the call: its rows and search entry, its jobs, and its recording unless another
    call still offers the same audio (404 when there is no such call)."""
    return await to_thread.run_sync(_store(request).delete, call_id)


@router.get("/calls", response_model=CallPage)
async def list_calls(request: Request, f: Annotated[CallFilter, Query()]) -> CallPage:
    """A page of stored calls: filtered by review flag, domain, category, UTC days and words
    of the transcript, sorted by any listed column."""
    return await to_thread.run_sync(_store(request).page, f)


@router.get("/audio/{call_id}", response_class=FileResponse,
            responses={200: {"content": {"audio/*": {}}}, 206: {"description": "A byte range"},
                       416: {"description": "The range is beyond the end of the recording"}})
async def audio(request: Request, call_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> FileResponse:
    """The call's stored recording; a `Range` header gets 206 with those bytes (416 beyond
    the end), so a player can seek without downloading the whole file."""
    path, media_type = await to_thread.run_sync(_store(request).audio, call_id)
    return FileResponse(path, media_type=media_type)


@router.get("/stats", response_model=Stats)
async def stats(request: Request) -> Stats:
    """Totals by domain and category, average duration and sentiment."""
    return await to_thread.run_sync(_store(request).stats)


@health_router.get("/health")
async def health(request: Request) -> JSONResponse:
    """Whether this service can do its work (no token needed: probes call it)."""
    return await health_report("persistence", _store(request).health)
