"""The dashboard's prompt pages (/ui/prompts): every pair, one pair's versions and its editor,
and the "New category" form, which does what POST /api/prompts does.

Both forms go through the prompt stage (`hub.stages.prompts`), in this process or the prompt
service, so what they store is what the next call of every process reads. A refused form is
shown again with what was typed and what to change.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from audiohub.access.guard import requires
from audiohub.access.permissions import Permission, Principal
from audiohub.access.schemas import AuditAction
from audiohub.domain import MAX_ID, CategorySpec
from audiohub.errors import (
    AudioHubError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    describe_invalid,
)
from audiohub.fieldspec import KINDS
from audiohub.gateway.endpoints import audit, hub_of
from audiohub.prompts.schemas import PromptCreate, PromptEdit
from audiohub.web import views

router = APIRouter(prefix="/ui", include_in_schema=False)

Editor = Annotated[Principal, Depends(requires(Permission.PROMPTS_EDIT))]
# Blank field rows the new-category form offers (more fields: add them in the editor after).
NEW_ROWS = 8
MAX_ROWS = 50  # PromptCreate's limit; rows past it are not read
ROW_KEYS = ("name", "kind", "said_by", "description", "cues", "choices", "examples")


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    # web.endpoints' own, repeated: that module includes this router, so it cannot be imported.
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, name, context, status_code=status)
    return response


@router.get("/prompts", response_class=HTMLResponse,
            dependencies=[Depends(requires(Permission.PROMPTS_READ))])
async def prompts(request: Request) -> HTMLResponse:
    specs = sorted(await hub_of(request).stages.prompts.all(),
                   key=lambda s: (s.source != "generated", s.domain, s.category))
    return render(request, "prompts.html", specs=specs,
                  to_review=sum(s.source == "generated" for s in specs),
                  to_confirm=sum(any(f.kind_inferred for f in s.fields) for s in specs))


# --- a new pair -------------------------------------------------------------------------------

@router.get("/prompts/new", response_class=HTMLResponse)
async def new_prompt_form(request: Request, _: Editor) -> HTMLResponse:
    return _new_page(request, {}, [])


@router.post("/prompts/new", response_class=HTMLResponse, response_model=None)
async def new_prompt(request: Request, principal: Editor) -> Response:
    """The form's pair, created as POST /api/prompts creates it; then its page."""
    form = await request.form(max_files=0, max_fields=20 + MAX_ROWS * len(ROW_KEYS))
    values = {k: v for k, v in form.items() if isinstance(v, str) and not k.startswith("f_")}
    columns = {k: [v if isinstance(v, str) else "" for v in form.getlist(f"f_{k}")][:MAX_ROWS]
               for k in ROW_KEYS}
    rows = [{k: columns[k][i] if i < len(columns[k]) else "" for k in ROW_KEYS}
            for i in range(max(map(len, columns.values())))]
    # Rows left blank are not fields (the kind and said_by selects always have a value).
    filled = [(n, r) for n, r in enumerate(rows, 1)
              if any(r[k].strip() for k in ROW_KEYS if k not in ("kind", "said_by"))]
    body = {"domain": values.get("domain", "").strip(),
            "category": values.get("category", "").strip(),
            "description": values.get("description", ""),
            "prompt": values.get("prompt", "").strip() or None,
            "examples": _lines(values.get("examples", "")),
            "keyterms": _lines(values.get("keyterms", "")),
            "fields": [views.field_hints({k: v.strip() for k, v in r.items()})
                       for _, r in filled]}
    try:
        new = PromptCreate.model_validate(body)
        saved = await hub_of(request).stages.prompts.create(new)
    except ValidationError as exc:
        return _new_page(request, values, rows, 400,
                         error=_problems(exc.errors(), [n for n, _ in filled]))
    except AudioHubError as exc:  # 409: the pair exists
        if exc.status_code >= 500:
            raise
        return _new_page(request, values, rows, exc.status_code, error=exc.detail)
    await audit(request, principal, AuditAction.PROMPT_CHANGED,
                detail=f"{saved.domain}/{saved.category} v{saved.version} (created)")
    return RedirectResponse(f"/ui/prompts/{saved.domain}/{saved.category}?saved={saved.version}",
                            status_code=303)


def _new_page(request: Request, values: dict[str, str], rows: list[dict[str, str]],
              status: int = 200, *, error: str | None = None) -> HTMLResponse:
    blank = {k: "" for k in ROW_KEYS} | {"kind": "text", "said_by": "either"}
    shown = [*rows, *[blank] * max(NEW_ROWS - len(rows), 1)][:MAX_ROWS]
    return render(request, "prompt_new.html", status, form=values, rows=shown, error=error,
                  kinds=KINDS, said_by=views.SAID_BY)


def _problems(errors: list[Any], row_numbers: list[int]) -> str:
    """pydantic's errors, each field's named by its row of the form ("field row 3, kind: ...")."""
    out = []
    for e in errors:
        loc = list(e.get("loc", ()))
        if loc[:1] == ["fields"] and len(loc) > 1 and isinstance(loc[1], int):
            where = ", ".join([f"field row {row_numbers[loc[1]]}", *map(str, loc[2:])])
        else:
            where = ".".join(map(str, loc)) or "category"
        out.append(f"{where}: {e.get('msg', 'invalid')}")
    return "; ".join(out)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


# --- one pair: versions and the editor --------------------------------------------------------

@router.get("/prompts/{domain}/{category}", response_class=HTMLResponse,
            dependencies=[Depends(requires(Permission.PROMPTS_READ))])
async def prompt_detail(request: Request, domain: str, category: str,
                        saved: int | None = None) -> HTMLResponse:
    history = await _history(request, domain, category)
    return _prompt_page(request, history, saved=saved)


@router.post("/prompts/{domain}/{category}", response_class=HTMLResponse, response_model=None)
async def prompt_save(
    request: Request,
    principal: Editor,
    domain: str, category: str,
    version: Annotated[int, Form(ge=1, le=MAX_ID)],
    action: Annotated[Literal["save", "approve"], Form()] = "save",
    description: Annotated[str, Form(max_length=2000)] = "",
    prompt: Annotated[str, Form(max_length=20000)] = "",
    fields: Annotated[str, Form(max_length=20000)] = "",
    examples: Annotated[str, Form(max_length=20000)] = "",
    keyterms: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    """Approve the version shown, or save an edit of it: either is a new version. A form made
    from an older version than the current one is refused (409), so no change is lost. Saving
    confirms every field's kind, guessed ones included."""
    stage = hub_of(request).stages.prompts
    history = await _history(request, domain, category)
    current = history[0]
    if version != current.version:
        raise ConflictError(
            f"{domain}/{category} is at version {current.version} now, not {version}: reload "
            "the page to see it, then make the change again")
    form = {"description": description, "prompt": prompt, "fields": fields,
            "examples": examples, "keyterms": keyterms}
    try:
        if action == "approve":
            if current.source != "generated":
                raise InvalidInputError(
                    f"version {current.version} is {current.source}, not generated: there is "
                    "nothing to approve")
            edit = PromptEdit.of(current)
        else:
            edit = PromptEdit(description=description.strip(), prompt=prompt.strip(),
                              fields=views.parse_fields(fields, current.fields),
                              examples=_lines(examples), keyterms=keyterms.splitlines(),
                              source="edited")
    except (ValidationError, InvalidInputError) as exc:
        error = exc.detail if isinstance(exc, InvalidInputError) else describe_invalid(
            exc.errors(), whole="prompt")
        return _prompt_page(request, history, 400, error=error,
                            form=None if action == "approve" else form)
    saved = await stage.save(domain, category, edit)
    await audit(request, principal, AuditAction.PROMPT_CHANGED,
                detail=f"{domain}/{category} v{saved.version} ({action})")
    return RedirectResponse(f"/ui/prompts/{domain}/{category}?saved={saved.version}",
                            status_code=303)


async def _history(request: Request, domain: str, category: str) -> list[CategorySpec]:
    history = await hub_of(request).stages.prompts.history(domain, category)
    if not history:
        raise NotFoundError(f"no prompt for {domain}/{category}")
    return history


def _prompt_page(request: Request, history: list[CategorySpec], status: int = 200, *,
                 saved: int | None = None, error: str | None = None,
                 form: dict[str, str] | None = None) -> HTMLResponse:
    current = history[0]
    form = form or {"description": current.description, "prompt": current.prompt,
                    "fields": views.format_fields(current.fields),
                    "examples": "\n".join(current.examples),
                    "keyterms": "\n".join(current.keyterms)}
    return render(request, "prompt.html", status, spec=current, history=history,
                  saved=saved, error=error, form=form, syntax=views.FIELD_SYNTAX, kinds=KINDS,
                  inferred=[f for f in current.fields if f.kind_inferred])
