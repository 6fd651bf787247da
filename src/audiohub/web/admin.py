"""The dashboard's admin page (/ui/admin: users and API keys) and the audit trail (/ui/audit).

Every change goes through AccessService, as `audiohub users|keys` does, so the page, the CLI
and the audit trail agree. A refused change (a bad name, a duplicate, the last admin) is shown
on the page with its status, like a refused prompt edit. A new key is shown once, on the page
the create form answers with: never in a redirect's address, which browsers keep in history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from anyio import to_thread
from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from audiohub.access.guard import access_of, address_of, requires
from audiohub.access.permissions import ROLES, Permission, Principal
from audiohub.access.schemas import MAX_PASSWORD, AuditAction, AuditFilter, NewKey
from audiohub.errors import AudioHubError, InvalidInputError, describe_invalid

router = APIRouter(prefix="/ui", include_in_schema=False)


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    # web.endpoints' own, repeated: that module includes this router, so it cannot be imported.
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, name, context, status_code=status)
    return response


Admin = Annotated[Principal, Depends(requires(Permission.USERS_MANAGE))]
Name = Annotated[str, Form(max_length=64)]
AUDIT_PAGE = 100
# What a redirect after a change says on the page: fixed sentences, the name filled in as text.
DONE = {
    "user-created": "User {name} created.",
    "user-disabled": "User {name} disabled; their sessions have ended.",
    "user-enabled": "User {name} enabled.",
    "role-set": "User {name} now has the role {role}.",
    "key-revoked": "Key {name} revoked: it stops working on the next request.",
}


@router.get("/admin", response_class=HTMLResponse)
async def admin(
    request: Request, _: Admin,
    done: Annotated[str | None, Query(max_length=32)] = None,
    name: Annotated[str, Query(max_length=64)] = "",
    role: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    notice = DONE[done].format(name=name, role=role) if done in DONE else None
    return await _page(request, notice=notice)


@router.post("/admin/users", response_class=HTMLResponse, response_model=None)
async def create_user(
    request: Request, principal: Admin, username: Name,
    password: Annotated[str, Form(max_length=MAX_PASSWORD)],
    role: Annotated[str, Form(max_length=16)],
) -> Response:
    access = access_of(request)
    return await _change(
        request, partial(access.create_user, username, password, role, principal.subject,
                         address_of(request)),
        _done("user-created", username), form={"username": username, "role": role})


@router.post("/admin/users/{username}", response_class=HTMLResponse, response_model=None)
async def change_user(
    request: Request, principal: Admin,
    username: Annotated[str, Path(max_length=64)],
    action: Annotated[Literal["disable", "enable", "set_role"], Form()],
    role: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Disable or enable a user, or give them another role (not the last enabled admin)."""
    access, who, address = access_of(request), principal.subject, address_of(request)
    if action == "set_role":
        change = partial(access.set_role, username, role, who, address)
        target = _done("role-set", username, role=role)
    else:
        change = partial(access.set_disabled, username, action == "disable", who, address)
        target = _done(f"user-{action}d", username)
    return await _change(request, change, target)


@router.post("/admin/keys", response_class=HTMLResponse, response_model=None)
async def create_key(
    request: Request, principal: Admin, name: Name,
    role: Annotated[str, Form(max_length=16)],
    expires_days: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Make a key and answer with the page showing it, this once (201)."""
    form = {"name": name, "role": role, "expires_days": expires_days}
    try:
        days = _days(expires_days)
        made: NewKey = await to_thread.run_sync(partial(
            access_of(request).create_key, name, role, principal.subject, days,
            address_of(request)))
    except AudioHubError as exc:
        return await _page(request, exc.status_code, error=exc.detail, key_form=form)
    return await _page(request, 201, new_key=made)


@router.post("/admin/keys/{name}/revoke", response_class=HTMLResponse, response_model=None)
async def revoke_key(request: Request, principal: Admin,
                     name: Annotated[str, Path(max_length=64)]) -> Response:
    access = access_of(request)
    return await _change(
        request, partial(access.revoke_key, name, principal.subject, address_of(request)),
        _done("key-revoked", name))


@router.get("/audit", response_class=HTMLResponse,
            dependencies=[Depends(requires(Permission.AUDIT_READ))])
async def audit(request: Request) -> HTMLResponse:
    """The latest audit rows, newest first, filtered by actor and action."""
    params = {k: v for k, v in request.query_params.items()
              if k in ("actor", "action", "offset") and v != ""}
    error = None
    try:
        f = AuditFilter.model_validate({**params, "limit": AUDIT_PAGE})
    except ValidationError as exc:
        error = describe_invalid(exc.errors(), whole="filter")
        f = AuditFilter(limit=AUDIT_PAGE)
    page = await to_thread.run_sync(access_of(request).audit_page, f)
    more = f.offset + AUDIT_PAGE < page.total
    return render(request, "audit.html", 400 if error else 200, f=f, page=page, error=error,
                  actions=list(AuditAction), more=more)


async def _change(request: Request, change: partial[Any], target: str,
                  form: dict[str, str] | None = None) -> Response:
    """Run one change; on to the page saying it was made (a reload then posts nothing), or the
    page with the reason it was not."""
    try:
        await to_thread.run_sync(change)
    except AudioHubError as exc:
        return await _page(request, exc.status_code, error=exc.detail, user_form=form)
    return RedirectResponse(target, status_code=303)


def _done(done: str, name: str, **extra: str) -> str:
    return "/ui/admin?" + urlencode({"done": done, "name": name, **extra})


def _days(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        days = float(text)
    except ValueError:
        raise InvalidInputError(f"expires is a number of days, not {text!r}") from None
    if not 0 < days <= 3650:
        raise InvalidInputError("expires is a number of days from 1 to 3650, or blank for "
                                "a key that does not expire")
    return days


async def _page(request: Request, status: int = 200, *, notice: str | None = None,
                error: str | None = None, new_key: NewKey | None = None,
                user_form: dict[str, str] | None = None,
                key_form: dict[str, str] | None = None) -> HTMLResponse:
    access = access_of(request)
    users = await to_thread.run_sync(access.users)
    keys = await to_thread.run_sync(access.keys)
    now = datetime.now(UTC)
    return render(request, "admin.html", status, users=users,
                  keys=[(k, k.state(now)) for k in keys], roles=ROLES, notice=notice,
                  error=error, new_key=new_key, user_form=user_form or {},
                  key_form=key_form or {})
