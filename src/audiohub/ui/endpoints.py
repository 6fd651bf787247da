"""The dashboard's pages (/ui/): server-rendered, so every page works without JavaScript; the
little script in static/app.js adds the player's seeking and the upload's progress.

Pages read through the same stage interfaces as the API (`hub.stages`), so they work in one
process and in front of the five services alike.
"""

from __future__ import annotations

import re
from pathlib import Path as FsPath
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from anyio import to_thread
from fastapi import APIRouter, FastAPI, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from audiohub import __version__
from audiohub.domain import CallFilter, CallPage, CategorySpec, FieldSpec
from audiohub.errors import ForbiddenError, InvalidInputError, NotFoundError
from audiohub.gateway.hub import Hub
from audiohub.jobs.schemas import Job
from audiohub.jobs.service import JOBS_NEED_DATABASE, JobService
from audiohub.prompts.schemas import PromptEdit
from audiohub.ui import charts, views

HERE = FsPath(__file__).parent
PAGE_SIZE = 25

router = APIRouter(prefix="/ui", include_in_schema=False)


def install_ui(app: FastAPI) -> None:
    """Mount the dashboard on the gateway: its pages, its static files, its error page."""
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters.update(clock=clock, when=when, pct=pct, signed=signed)
    templates.env.globals.update(version=__version__)
    app.state.templates = templates
    app.state.error_page = error_page
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="ui-static")
    app.include_router(router)


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, context, status_code=status)


def error_page(request: Request, status: int, error: str, detail: str) -> Response:
    return render(request, "error.html", status, code=status, error=error, detail=detail)


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def _jobs(request: Request) -> JobService | None:
    return getattr(request.app.state, "jobs", None)


def _same_origin(request: Request) -> None:
    """Forms that change things must come from these pages: a browser names the page's origin
    in `Origin` on every POST, and another site's form would name its own."""
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host"):
        raise ForbiddenError(f"a form from {origin} may not change this hub; use its own pages")


# --- calls --------------------------------------------------------------------------------------

@router.get("", response_class=RedirectResponse)
async def ui_root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307)


@router.get("/", response_class=HTMLResponse)
async def calls(request: Request) -> HTMLResponse:
    """The calls table: filters, full-text search, sortable columns, pages."""
    params = {k: v for k, v in request.query_params.items() if v != ""}
    error = None
    try:
        f = CallFilter.model_validate({**params, "limit": PAGE_SIZE})
    except ValidationError as exc:
        error = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'filter'}: {e['msg']}"
                          for e in exc.errors())
        f = CallFilter(limit=PAGE_SIZE)
    hub = _hub(request)
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
async def call_detail(request: Request, call_id: Annotated[int, Path(ge=1)]) -> HTMLResponse:
    """One call: player, transcript by segment, values with their evidence, metrics."""
    result = await _hub(request).stages.persistence.get(call_id)
    view = views.call_view(call_id, result)
    duration = result.general_metrics.duration_seconds
    return render(request, "call.html", call=view, r=result, m=result.general_metrics,
                  sentiment_chart=charts.timeline("Sentiment over the call", view.sentiment,
                                                  duration))


# --- upload and jobs ----------------------------------------------------------------------------

@router.get("/upload", response_class=HTMLResponse)
async def upload_form(request: Request) -> HTMLResponse:
    jobs = _jobs(request)
    return render(request, "upload.html", jobs_off=None if jobs else JOBS_NEED_DATABASE,
                  max_mb=request.app.state.settings.max_upload_mb)


@router.post("/upload", response_class=RedirectResponse)
async def upload(request: Request,
                 file: Annotated[list[UploadFile], File()]) -> RedirectResponse:
    """The form without JavaScript: each file becomes a job; the jobs page follows them."""
    _same_origin(request)
    jobs = _jobs(request)
    if jobs is None:
        raise InvalidInputError(JOBS_NEED_DATABASE)
    files = [f for f in file if f.filename]
    if not files:
        raise InvalidInputError("choose at least one recording to upload")
    ids = []
    for f in files:
        accepted = await to_thread.run_sync(jobs.submit, f.file, f.filename)
        ids.append(accepted.job_id)
    return RedirectResponse(f"/ui/jobs?{urlencode([('id', i) for i in ids])}", status_code=303)


@router.get("/jobs", response_class=HTMLResponse)
async def job_status(request: Request,
                     id: Annotated[list[str], Query(max_length=32)]) -> HTMLResponse:
    """Where uploads are: refreshed every two seconds until each has ended."""
    jobs = _jobs(request)
    if jobs is None:
        raise InvalidInputError(JOBS_NEED_DATABASE)
    found: list[Job] = []
    for job_id in id[:50]:
        found.append(await to_thread.run_sync(jobs.get, job_id))
    running = any(j.status not in ("done", "failed") for j in found)
    return render(request, "jobs.html", jobs=found, running=running)


# --- stats --------------------------------------------------------------------------------------

@router.get("/stats", response_class=HTMLResponse)
async def stats(request: Request) -> HTMLResponse:
    s = await _hub(request).stages.persistence.stats()
    return render(
        request, "stats.html", s=s,
        per_day=charts.columns("Calls per day", views.day_bars(s)),
        by_domain=charts.hbars("Calls by domain", views.count_bars(s.by_domain)),
        by_category=charts.hbars("Calls by category", views.count_bars(s.by_category)),
        sentiment=charts.hbars("Average sentiment by domain",
                               views.average_bars(s.average_sentiment_by_domain), lo=-1, hi=1),
        duration=charts.hbars("Average duration by domain",
                              views.average_bars(s.average_duration_by_domain), unit=" s"))


# --- prompts ------------------------------------------------------------------------------------

@router.get("/prompts", response_class=HTMLResponse)
async def prompts(request: Request) -> HTMLResponse:
    specs = sorted(await _hub(request).stages.prompts.all(),
                   key=lambda s: (s.source != "generated", s.domain, s.category))
    return render(request, "prompts.html", specs=specs,
                  to_review=sum(s.source == "generated" for s in specs))


@router.get("/prompts/{domain}/{category}", response_class=HTMLResponse)
async def prompt_detail(request: Request, domain: str, category: str,
                        saved: int | None = None) -> HTMLResponse:
    history = await _history(request, domain, category)
    return _prompt_page(request, history, saved=saved)


@router.post("/prompts/{domain}/{category}", response_class=HTMLResponse, response_model=None)
async def prompt_save(
    request: Request, domain: str, category: str,
    action: Annotated[str, Form()] = "save",
    description: Annotated[str, Form(max_length=2000)] = "",
    prompt: Annotated[str, Form(max_length=20000)] = "",
    fields: Annotated[str, Form(max_length=20000)] = "",
    examples: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    """Approve the current version, or save an edit: either is a new version."""
    _same_origin(request)
    stage = _hub(request).stages.prompts
    history = await _history(request, domain, category)
    current = history[0]
    if action == "approve":
        edit = PromptEdit(description=current.description, prompt=current.prompt,
                          fields=current.fields, examples=current.examples, source="approved")
    else:
        try:
            edit = PromptEdit(description=description.strip(), prompt=prompt.strip(),
                              fields=parse_fields(fields, current.fields),
                              examples=[e.strip() for e in examples.splitlines() if e.strip()],
                              source="edited")
        except (ValidationError, InvalidInputError) as exc:
            return _prompt_page(request, history, 400, error=_problems(exc), form={
                "description": description, "prompt": prompt, "fields": fields,
                "examples": examples})
    saved = await stage.save(domain, category, edit)
    return RedirectResponse(f"/ui/prompts/{domain}/{category}?saved={saved.version}",
                            status_code=303)


async def _history(request: Request, domain: str, category: str) -> list[CategorySpec]:
    history = await _hub(request).stages.prompts.history(domain, category)
    if not history:
        raise NotFoundError(f"no prompt for {domain}/{category}")
    return history


def _prompt_page(request: Request, history: list[CategorySpec], status: int = 200, *,
                 saved: int | None = None, error: str | None = None,
                 form: dict[str, str] | None = None) -> HTMLResponse:
    current = history[0]
    form = form or {"description": current.description, "prompt": current.prompt,
                    "fields": format_fields(current.fields),
                    "examples": "\n".join(current.examples)}
    return render(request, "prompt.html", status, spec=current, history=history,
                  saved=saved, error=error, form=form)


FIELD_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[([a-z_]+)\])?\s*(?::\s*(.*))?$")


def format_fields(fields: list[FieldSpec]) -> str:
    """Fields as editable lines: `name [kind]: description`."""
    return "\n".join(f"{f.name} [{f.kind}]: {f.description}" for f in fields)


def parse_fields(text: str, current: list[FieldSpec]) -> list[FieldSpec]:
    """The lines back into fields; a kind left out keeps the field's current one."""
    kinds = {f.name: f.kind for f in current}
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = FIELD_LINE.match(line)
        if m is None:
            raise InvalidInputError(
                f"fields, line {n}: write `name [kind]: description` with a name of letters, "
                f"digits and underscores, not {line.strip()[:60]!r}")
        name, kind, description = m.group(1), m.group(2), (m.group(3) or "").strip()
        out.append(FieldSpec(name=name, kind=kind or kinds.get(name, "text"),
                             description=description))
    return out


def _problems(exc: ValidationError | InvalidInputError) -> str:
    if isinstance(exc, InvalidInputError):
        return exc.detail
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'prompt'}: {e['msg']}"
                     for e in exc.errors())


# --- template filters ---------------------------------------------------------------------------

DASH = "\u2013"  # what a table cell shows for "no value"

def clock(seconds: float | None) -> str:
    """Seconds as m:ss (h:mm:ss past an hour)."""
    if seconds is None:
        return DASH
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else DASH


def pct(value: float | None) -> str:
    return DASH if value is None else f"{value * 100:.0f}%"


def signed(value: float | None) -> str:
    return DASH if value is None else f"{value:+.2f}"
