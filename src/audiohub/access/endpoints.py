"""Signing in and out, the first admin's setup link, and the audit trail's API."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from anyio import to_thread
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from audiohub.access.guard import (
    SESSION_COOKIE,
    access_of,
    address_of,
    limits_of,
    principal_of,
    requires,
)
from audiohub.access.permissions import Permission, Principal
from audiohub.access.schemas import MAX_PASSWORD, AuditFilter, AuditPage
from audiohub.errors import AudioHubError, UnauthorizedError

router = APIRouter()

Password = Annotated[str, Form(max_length=MAX_PASSWORD)]
Username = Annotated[str, Form(max_length=64)]


def _render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    templates = request.app.state.templates
    response: HTMLResponse = templates.TemplateResponse(request, name, context,
                                                        status_code=status)
    return response


def _next(target: str | None) -> str:
    """Where to go after signing in: a path on this hub only, never another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui/"


def login_url(path: str) -> str:
    return "/ui/login?" + urlencode({"next": path})


@router.get("/ui/login", response_class=HTMLResponse, include_in_schema=False,
            dependencies=[Depends(requires(Permission.PUBLIC))])
async def login_form(request: Request, next: Annotated[str | None, Query(max_length=2000)] = None
                     ) -> Response:
    if not (await principal_of(request)).anonymous:
        return RedirectResponse(_next(next), status_code=303)
    return _render(request, "login.html", next=_next(next))


@router.post("/ui/login", response_class=HTMLResponse, include_in_schema=False,
             response_model=None, dependencies=[Depends(requires(Permission.PUBLIC))])
async def login(request: Request, username: Username, password: Password,
                next: Annotated[str | None, Form(max_length=2000)] = None) -> Response:
    """Check the password; on success a session cookie (HttpOnly, SameSite=Lax, Secure over
    https or with AUTH_COOKIE_SECURE). Failed attempts are counted per name and per address
    (RATE_LIMIT_LOGIN): past the limit, 429 with Retry-After."""
    access, limits = access_of(request), limits_of(request)
    address = address_of(request) or "?"
    try:
        for who in (f"user:{username.lower()}", f"address:{address}"):
            limits.check(limits.login, "login", who)
        token, _ = await to_thread.run_sync(access.login, username, password, address)
    except UnauthorizedError as exc:
        for who in (f"user:{username.lower()}", f"address:{address}"):
            await to_thread.run_sync(limits.hit, limits.login, "login", who)
        return _render(request, "login.html", 401, next=_next(next), username=username,
                       error=exc.detail)
    except AudioHubError as exc:  # 429: the name or the address tried too often
        refused = _render(request, "login.html", exc.status_code, next=_next(next),
                          username=username, error=exc.detail)
        refused.headers.update(exc.headers)
        return refused
    response = RedirectResponse(_next(next), status_code=303)
    settings = request.app.state.settings.auth
    response.set_cookie(
        SESSION_COOKIE, token, max_age=int(settings.session_hours * 3600), httponly=True,
        samesite="lax", path="/",
        secure=settings.cookie_secure or request.url.scheme == "https")
    return response


@router.post("/ui/logout", include_in_schema=False)
async def logout(
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.SIGNED_IN))],
) -> RedirectResponse:
    token = request.cookies.get(SESSION_COOKIE)
    if token and principal.via == "session":
        await to_thread.run_sync(access_of(request).logout, token, principal.subject,
                                 address_of(request))
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/ui/setup", response_class=HTMLResponse, include_in_schema=False,
            dependencies=[Depends(requires(Permission.PUBLIC))])
async def setup_form(request: Request,
                     token: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
    """The first admin's page, reached by the link the server printed at its first start."""
    valid = await to_thread.run_sync(access_of(request).setup_valid, token)
    if not valid:
        raise UnauthorizedError("this setup link is not valid: it was used already, or an "
                                "admin exists. Sign in, or run `audiohub users create`")
    return _render(request, "setup.html", token=token)


@router.post("/ui/setup", response_class=HTMLResponse, include_in_schema=False,
             response_model=None, dependencies=[Depends(requires(Permission.PUBLIC))])
async def setup(request: Request, username: Username, password: Password,
                token: Annotated[str, Form(max_length=200)] = "") -> Response:
    access = access_of(request)
    try:
        await to_thread.run_sync(access.complete_setup, token, username, password,
                                 address_of(request))
    except UnauthorizedError:
        raise
    except AudioHubError as exc:
        return _render(request, "setup.html", exc.status_code, token=token, username=username,
                       error=exc.detail)
    return RedirectResponse("/ui/login?" + urlencode({"next": "/ui/"}), status_code=303)


@router.get("/api/me", dependencies=[Depends(requires(Permission.SIGNED_IN))])
async def me(request: Request) -> dict[str, Any]:
    """Who this request is signed in as, and what its role may do."""
    principal = await principal_of(request)
    return {"subject": principal.subject, "role": principal.role, "via": principal.via,
            "permissions": sorted(p.value for p in Permission if principal.can(p)
                                  and p is not Permission.PUBLIC)}


@router.get("/api/audit", response_model=AuditPage,
            dependencies=[Depends(requires(Permission.AUDIT_READ))])
async def audit_log(request: Request, f: Annotated[AuditFilter, Query()]) -> AuditPage:
    """The audit trail, newest first: filter by `actor`, `action`, `call_id`, `since`,
    `until` (ISO 8601); page with `limit` and `offset`."""
    return await to_thread.run_sync(access_of(request).audit_page, f)
