"""The gateway's HTTP API: the seed's endpoints plus reading calls back."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response

from audiohub import __version__
from audiohub.access.guard import Reader, Requirement, access_of, address_of, principal_of, requires
from audiohub.access.permissions import ANONYMOUS, Permission, Principal
from audiohub.access.schemas import AuditAction
from audiohub.config import StageName
from audiohub.domain import MAX_ID, CallFilter, CallPage, CallResult, Stats
from audiohub.errors import BackendUnavailableError, MissingFileError, NotFoundError
from audiohub.gateway.hub import Hub
from audiohub.gateway.uploads import (
    RAW_AUDIO_BODY,
    FormKeyterms,
    QueryKeyterms,
    is_raw_audio,
    raw_filename,
    stage_chunks,
    stage_upload,
    upload_keyterms,
)
from audiohub.health import (
    HEALTH_RESPONSES,
    LIVE_RESPONSES,
    READY_RESPONSES,
    ComponentHealth,
    Health,
    Live,
    Probe,
    broker_ping,
    check_parts,
    in_thread,
    readiness,
)

router = APIRouter()

CallId = Annotated[int, Path(ge=1, le=MAX_ID)]


SegmentsFlag = Annotated[
    bool, Query(description="Also return the segments with their word timings.")
]


def hub_of(request: Request) -> Hub:
    """The hub this app built at start (the API's and the dashboard's)."""
    hub: Hub = request.app.state.hub
    return hub


async def readable_call(request: Request, principal: Principal, call_id: int) -> CallResult:
    """The stored call, if this principal may read it: a role that reads only its own calls
    gets "not found" for anyone else's, as if it did not exist."""
    result = await hub_of(request).stages.persistence.get(call_id)
    owner = principal.owner_scope
    if owner is not None and result.submitted_by != owner:
        raise NotFoundError(f"no call with id {call_id}")
    return result


async def audit(request: Request, principal: Principal, action: AuditAction, *,
                call_id: int | None = None, detail: str = "") -> None:
    """One row of the audit trail for this request."""
    await to_thread.run_sync(lambda: access_of(request).audit(
        principal.subject, action, call_id=call_id, detail=detail,
        address=address_of(request)))


@router.get("/", response_model=None, dependencies=[Depends(requires(Permission.SIGNED_IN))])
async def root(request: Request) -> dict[str, Any] | RedirectResponse:
    """The seed's root endpoint: what this is and where to go next. A browser (it asks for
    HTML) is sent to the dashboard instead; API clients keep the seed's JSON."""
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/ui/", status_code=303)
    return {
        "message": "Audio Magic Hub API Gateway",
        "version": __version__,
        "endpoints": {
            "transcribe": "POST /api/transcribe/ (multipart field 'file', optional 'keyterms')",
            "call": "GET /api/calls/{call_id}",
            "stats": "GET /api/stats",
            "health": "GET /health",
            "docs": "/docs",
            "dashboard": "/ui/",
        },
    }


class HealthProbe(Requirement):
    """Public, like `requires(Permission.PUBLIC)`, and answering even while the database it
    reports on is down: a caller whose key cannot be checked then (503 on every other route) is
    answered as anyone is (a wrong key with the database up is still refused)."""

    def __init__(self) -> None:
        super().__init__(Permission.PUBLIC)

    async def __call__(self, request: Request) -> Principal:
        try:
            return await super().__call__(request)
        except BackendUnavailableError:
            request.state.principal = ANONYMOUS
            return ANONYMOUS


_PROBE = [Depends(HealthProbe())]


@router.get("/health", response_model=None, dependencies=_PROBE, responses=HEALTH_RESPONSES)
async def health(request: Request) -> JSONResponse:
    """Status of every component (the seed's shape): `status` is "healthy" (200) only when all
    of them answer, else "degraded" with 503, so a load balancer can act on it. Without a key
    (or a role with health:detail) only `status`: the details name hosts and versions."""
    stages = hub_of(request).stages
    checks = await check_parts({
        "transcription": stages.transcription.health,
        "prompts": stages.prompts.health,
        "extraction": stages.extraction.health,
        "persistence": stages.persistence.health,
    })
    ok = all(c.ready for c in checks.values())
    body = Health(status="healthy" if ok else "degraded")
    if (await principal_of(request)).can(Permission.HEALTH_DETAIL):
        body.services = {
            name: ComponentHealth(status="healthy" if c.ready else "unhealthy", detail=c.detail)
            for name, c in checks.items()}
    return JSONResponse(body.model_dump(exclude_none=True), status_code=200 if ok else 503)


@router.get("/health/live", response_model=Live, responses=LIVE_RESPONSES,
            dependencies=_PROBE)
async def live() -> Live:
    """Liveness: the process answers. Checks nothing else, so a probe that restarts on failure
    never restarts the gateway for a stage or a database a restart would not bring back."""
    return Live()


@router.get("/health/ready", response_model=None, responses=READY_RESPONSES,
            dependencies=_PROBE)
async def ready(request: Request) -> JSONResponse:
    """Readiness: 503 while a part the gateway cannot serve without is down (its database, the
    broker when CELERY_BROKER_URL is set, each stage that runs as a service) or its models are
    still loading. Anyone learns which parts; what failed there needs health:detail."""
    checks = await check_parts(_required_parts(request))
    detail = (await principal_of(request)).can(Permission.HEALTH_DETAIL)
    return readiness(checks, detail=detail)


def _required_parts(request: Request) -> dict[str, Probe]:
    hub: Hub | None = getattr(request.app.state, "hub", None)
    if hub is None:  # set once the start (models loaded) is over
        return {"models": _not_loaded}
    parts: dict[str, Probe] = {"database": in_thread(hub.parts.db.ping)}
    if broker := hub.settings.celery.broker_url:
        parts["broker"] = in_thread(lambda: broker_ping(broker))
    # Each stage run as a service: its /health. Named as in /health ("prompts" for the prompt
    # service); a stage in this process needs only the database and the models, checked above.
    stages = hub.stages
    remote: tuple[tuple[StageName, str, Probe], ...] = (
        ("transcription", "transcription", stages.transcription.health),
        ("prompt", "prompts", stages.prompts.health),
        ("extraction", "extraction", stages.extraction.health),
        ("persistence", "persistence", stages.persistence.health))
    parts.update({name: probe for stage, name, probe in remote if stage in hub.remote})
    return parts


async def _not_loaded() -> str:
    raise RuntimeError("the gateway is still starting: loading its models")


@router.post("/api/transcribe/", response_model=None, responses={200: {"model": CallResult}},
             openapi_extra=RAW_AUDIO_BODY)
async def transcribe(
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CALLS_UPLOAD, limit="upload"))],
    file: Annotated[UploadFile | None, File()] = None,
    keyterms: FormKeyterms = None,
    query_keyterms: QueryKeyterms = None,
    segments: SegmentsFlag = False,
) -> JSONResponse:
    """Analyse one recording (any common audio format) and store the result. Send it as the
    multipart field `file`, or as the raw body (`audio/*` or `application/octet-stream`).
    `keyterms` (form field or query parameter) lists words to expect in the call."""
    terms = upload_keyterms(keyterms, query_keyterms)
    hub = hub_of(request)
    s = hub.settings
    tmp, limit = s.data_dir / "tmp", s.max_upload_bytes
    if file is not None:
        staged = await stage_upload(file.file, file.filename, tmp, limit)
    elif is_raw_audio(request.headers):
        staged = await stage_chunks(request.stream(), raw_filename(request.headers), tmp, limit)
    else:
        raise MissingFileError("send the recording as multipart form field 'file' (curl -F "
                               "file=@call.wav ...) or as the raw body with Content-Type audio/* "
                               "(curl --data-binary @call.mp3 -H 'Content-Type: audio/mpeg' ...)")
    staged = replace(staged, submitted_by=principal.subject, keyterms=terms)
    try:
        return JSONResponse((await hub.pipeline.process(staged)).output(segments))
    finally:
        staged.path.unlink(missing_ok=True)


@router.get("/api/calls/{call_id}", response_model=None, responses={200: {"model": CallResult}})
async def get_call(
    request: Request, principal: Reader, call_id: CallId, segments: SegmentsFlag = False
) -> JSONResponse:
    """A stored call, exactly as POST /api/transcribe/ returned it."""
    result = await readable_call(request, principal, call_id)
    await audit(request, principal, AuditAction.CALL_VIEWED, call_id=call_id)
    return JSONResponse(result.output(segments))


@router.get("/api/calls/{call_id}/audio", response_class=Response,
            responses={200: {"content": {"audio/*": {}}}, 206: {"description": "A byte range"},
                       416: {"description": "The range is beyond the end of the recording"}})
async def call_audio(request: Request, principal: Reader, call_id: CallId) -> Response:
    """The call's recording, for a player: send `Range: bytes=...` to get 206 with those bytes."""
    if principal.owner_scope is not None:
        await readable_call(request, principal, call_id)
    response = await hub_of(request).stages.persistence.audio(
        call_id, request.headers.get("range"))
    # A player asks for many ranges of one recording: the first request of a play is the row.
    if (request.headers.get("range") or "bytes=0-").startswith("bytes=0-"):
        await audit(request, principal, AuditAction.AUDIO_PLAYED, call_id=call_id)
    return response


async def delete_call(request: Request, principal: Principal, call_id: int) -> None:
    """Delete the call (the API's route and the dashboard's form) and audit it."""
    deleted = await hub_of(request).stages.persistence.delete(call_id)
    await audit(request, principal, AuditAction.CALL_DELETED, call_id=call_id,
                detail="recording removed" if deleted.recording_removed
                else "recording kept: another call has the same audio")


@router.delete("/api/calls/{call_id}", status_code=204, response_class=Response,
               responses={404: {"description": "No such call"}})
async def delete_call_route(
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CALLS_DELETE))],
    call_id: CallId,
) -> Response:
    """Delete a call for good (admin): its rows, its search entry, its jobs, and its recording
    unless another call holds the same audio. Answers 204 No Content; 404 if there is no such
    call. The audit trail keeps a `call_deleted` row."""
    await delete_call(request, principal, call_id)
    return Response(status_code=204)


@router.get("/api/calls", response_model=CallPage)
async def list_calls(request: Request, principal: Reader,
                     f: Annotated[CallFilter, Query()]) -> CallPage:
    """Stored calls, newest first by default: filter by review flag, domain, category, UTC days
    (`since`, `until`, both included) and words of the transcript (`q`); `sort` by any column,
    `order` asc or desc. `needs_review=true` lists the ones a person should check."""
    if principal.owner_scope is not None:
        f = f.model_copy(update={"submitted_by": principal.owner_scope})
    return await hub_of(request).stages.persistence.page(f)


@router.get("/api/stats", response_model=Stats,
            dependencies=[Depends(requires(Permission.CALLS_READ))])
async def stats(request: Request) -> Stats:
    """Totals by domain and category, average duration and sentiment."""
    return await hub_of(request).stages.persistence.stats()
