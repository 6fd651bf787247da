"""The dashboard's pages (/ui/): server-rendered, so every page works without JavaScript; the
little script in static/app.js adds the player's seeking and the upload's progress.

Pages read through the same stage interfaces as the API (`hub.stages`), so they work in one
process and in front of the five services alike.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path as FsPath
from typing import Annotated, Any
from urllib.parse import urlencode

from anyio import to_thread
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import StringConstraints, ValidationError
from starlette.datastructures import UploadFile as StarletteUpload

from audiohub import __version__
from audiohub.access.endpoints import login_url
from audiohub.access.guard import Reader, requires
from audiohub.access.permissions import Permission, Principal
from audiohub.access.schemas import AuditAction
from audiohub.domain import CallFilter, CallPage
from audiohub.errors import (
    AudioHubError,
    InvalidInputError,
    describe_invalid,
)
from audiohub.gateway.endpoints import CallId, audit, delete_call, hub_of, readable_call
from audiohub.jobs.endpoints import job_service
from audiohub.jobs.schemas import Job
from audiohub.jobs.service import JOBS_NEED_DATABASE
from audiohub.transcription.schemas import clean_keyterms
from audiohub.web import admin, charts, prompts, views

HERE = FsPath(__file__).parent
PAGE_SIZE = 25
MAX_FILES = 50  # recordings one upload form may carry (each becomes a job)

router = APIRouter(prefix="/ui", include_in_schema=False)
_SIGN_IN_PAGES = frozenset({"/ui/login", "/ui/setup"})


def install_ui(app: FastAPI) -> None:
    """Mount the dashboard on the gateway: its pages, its static files, its error page."""
    templates = Jinja2Templates(directory=HERE / "templates", context_processors=[_signed_in])
    templates.env.filters.update(clock=views.clock, when=views.when, pct=views.pct,
                                 signed=views.signed)
    templates.env.globals.update(version=__version__)
    app.state.templates = templates
    app.state.error_page = error_page
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="ui-static")
    app.include_router(router)
    app.include_router(prompts.router)
    app.include_router(admin.router)


def _signed_in(request: Request) -> dict[str, Any]:
    """What every page knows of its reader: who they are (the header shows them, and hides
    what their role may not use) and the CSRF token its forms carry."""
    principal: Principal | None = getattr(request.state, "principal", None)
    return {"principal": principal, "csrf": principal.csrf if principal else None,
            "can": (lambda p: principal is not None and principal.can(Permission(p)))}


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, context, status_code=status)


def error_page(request: Request, status: int, error: str, detail: str) -> Response:
    if status == 401 and request.method == "GET" and request.url.path not in _SIGN_IN_PAGES:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(login_url(here), status_code=303)
    return render(request, "error.html", status, code=status, error=error, detail=detail)


# --- calls --------------------------------------------------------------------------------------

@router.get("", response_class=RedirectResponse,
            dependencies=[Depends(requires(Permission.PUBLIC))])
async def ui_root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307)


@router.get("/", response_class=HTMLResponse)
async def calls(request: Request, principal: Reader) -> HTMLResponse:
    """The calls table: filters, full-text search, sortable columns, pages."""
    params = {k: v for k, v in request.query_params.items() if v != ""}
    error = None
    try:
        f = CallFilter.model_validate({**params, "limit": PAGE_SIZE})
    except ValidationError as exc:
        error = describe_invalid(exc.errors(), whole="filter")
        f = CallFilter(limit=PAGE_SIZE)
    if principal.owner_scope is not None:
        f = f.model_copy(update={"submitted_by": principal.owner_scope})
    hub = hub_of(request)
    page = CallPage(total=0, items=[]) if error else await hub.stages.persistence.page(f)
    specs = await hub.stages.prompts.all()
    filtered = bool({"domain", "category", "since", "until", "needs_review", "q"} & params.keys())
    return render(
        request, "calls.html", 400 if error else 200, f=f, page=page, error=error,
        filtered=filtered, columns=[(key, label, *views.sort_link(f, key))
                                    for key, label in views.COLUMNS],
        domains=sorted({s.domain for s in specs}),
        categories=sorted({s.category for s in specs if not f.domain or s.domain == f.domain}),
        prev=views.query(f, offset=max(f.offset - PAGE_SIZE, 0)) if f.offset else None,
        next=(views.query(f, offset=f.offset + PAGE_SIZE)
              if f.offset + PAGE_SIZE < page.total else None))


@router.get("/calls/{call_id}", response_class=HTMLResponse)
async def call_detail(request: Request, principal: Reader, call_id: CallId) -> HTMLResponse:
    """One call: player, transcript by segment, values with their evidence, metrics."""
    result = await readable_call(request, principal, call_id)
    await audit(request, principal, AuditAction.CALL_VIEWED, call_id=call_id)
    view = views.call_view(call_id, result)
    duration = result.general_metrics.duration_seconds
    return render(request, "call.html", call=view, r=result, m=result.general_metrics,
                  sentiment_chart=charts.timeline("Sentiment over the call", view.sentiment,
                                                  duration))


Deleter = Annotated[Principal, Depends(requires(Permission.CALLS_DELETE))]


@router.get("/calls/{call_id}/delete", response_class=HTMLResponse)
async def delete_confirm(request: Request, principal: Deleter, call_id: CallId) -> HTMLResponse:
    """The confirmation step before a call is deleted (a page, not a script: the CSP forbids
    inline ones)."""
    result = await readable_call(request, principal, call_id)
    return render(request, "delete.html", call_id=call_id, r=result)


@router.post("/calls/{call_id}/delete", response_class=RedirectResponse)
async def call_delete(request: Request, principal: Deleter, call_id: CallId) -> RedirectResponse:
    """Delete the call (the confirmation page's form), then back to the calls."""
    await delete_call(request, principal, call_id)
    return RedirectResponse("/ui/", status_code=303)


# --- upload and jobs ----------------------------------------------------------------------------

@router.get("/upload", response_class=HTMLResponse,
            dependencies=[Depends(requires(Permission.CALLS_UPLOAD))])
async def upload_form(request: Request) -> HTMLResponse:
    jobs = getattr(request.app.state, "jobs", None)
    return render(request, "upload.html", jobs_off=None if jobs else JOBS_NEED_DATABASE,
                  max_mb=request.app.state.settings.max_upload_mb, max_files=MAX_FILES)


@router.post("/upload", response_class=HTMLResponse, response_model=None)
async def upload(
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CALLS_UPLOAD, limit="upload"))],
) -> Response:
    """The form without JavaScript (multipart, fields `file`): each file becomes a job; the
    jobs page follows them. A file that is refused is listed with the reason, the others go
    on. The form's origin and CSRF token (in its address) are checked before its body is read."""
    jobs = job_service(request)
    # Parsed here, not by a File() parameter: an empty file part is then "no file chosen", and
    # too many files are refused while the body is read.
    form = await request.form(max_files=MAX_FILES)
    files = [f for f in form.getlist("file") if isinstance(f, StarletteUpload) and f.filename]
    if not files:
        raise InvalidInputError("choose at least one recording to upload")
    try:
        keyterms = clean_keyterms([t for t in form.getlist("keyterms") if isinstance(t, str)],
                                  split=True)
    except ValueError as exc:
        raise InvalidInputError(f"expected terms: {exc}") from None
    accepted: list[Job] = []
    refused: list[tuple[str, str]] = []
    for f in files:
        try:
            job = await to_thread.run_sync(
                partial(jobs.submit, f.file, f.filename, submitted_by=principal.subject,
                        keyterms=keyterms))
        except AudioHubError as exc:
            refused.append((f.filename or "", exc.detail))
            continue
        accepted.append(await to_thread.run_sync(jobs.get, job.job_id))
    if not refused:  # the usual case: on to the jobs page (a reload there posts nothing)
        return RedirectResponse(_follow(accepted), status_code=303)
    return _jobs_page(request, accepted, refused, 202 if accepted else 400)


@router.get("/jobs", response_class=HTMLResponse)
async def job_status(
    request: Request,
    principal: Reader,
    id: Annotated[list[Annotated[str, StringConstraints(max_length=32)]],
                  Query(max_length=MAX_FILES)],
) -> HTMLResponse:
    """Where uploads are: refreshed every two seconds until each has ended."""
    jobs = job_service(request)
    found: list[Job] = []
    for job_id in id:
        found.append(await to_thread.run_sync(jobs.get, job_id, principal.owner_scope))
    return _jobs_page(request, found, [])


@router.post("/jobs/{job_id}/retry", response_class=RedirectResponse)
async def job_retry(
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CALLS_UPLOAD))],
    job_id: Annotated[str, Path(min_length=1, max_length=32)],
) -> RedirectResponse:
    """The jobs page's Retry button on a failed job (POST /api/jobs/{id}/retry), then back to
    the page, which follows the job again."""
    await to_thread.run_sync(job_service(request).retry, job_id, principal.owner_scope)
    return RedirectResponse(f"/ui/jobs?{urlencode([('id', job_id)])}", status_code=303)


def _jobs_page(request: Request, jobs: list[Job], refused: list[tuple[str, str]],
               status: int = 200) -> HTMLResponse:
    running = any(j.status not in ("done", "failed") for j in jobs)
    # The page refreshes itself at its GET address, never by posting the upload again.
    return render(request, "jobs.html", status, jobs=jobs, refused=refused,
                  running=running, follow=_follow(jobs))


def _follow(jobs: list[Job]) -> str:
    return f"/ui/jobs?{urlencode([('id', j.job_id) for j in jobs])}"


# --- stats --------------------------------------------------------------------------------------

@router.get("/stats", response_class=HTMLResponse,
            dependencies=[Depends(requires(Permission.CALLS_READ))])
async def stats(request: Request) -> HTMLResponse:
    s = await hub_of(request).stages.persistence.stats()
    return render(
        request, "stats.html", s=s,
        per_day=charts.columns("Calls per day", views.day_bars(s)),
        by_domain=charts.hbars("Calls by domain", views.count_bars(s.by_domain)),
        by_category=charts.hbars("Calls by category", views.count_bars(s.by_category)),
        sentiment=charts.hbars("Average sentiment by domain",
                               views.average_bars(s.average_sentiment_by_domain), lo=-1, hi=1),
        duration=charts.hbars("Average duration by domain",
                              views.average_bars(s.average_duration_by_domain), unit=" s"))
