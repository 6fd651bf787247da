"""Who is asking, and may they: the one FastAPI dependency every route of the gateway declares.

`requires(Permission.X)` resolves the caller once per request (an API key, a trusted proxy's
user header, the dashboard's session cookie, or nobody), refuses with 401/403 as the role table
says, and holds browser requests that change something to the same-origin rule and a CSRF token.
Requests with a key are not browsers' and skip that check.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import urlsplit

from anyio import to_thread
from fastapi import Depends, Request
from sqlalchemy.exc import SQLAlchemyError

from audiohub.access.permissions import ANONYMOUS, LOCAL, Permission, Principal
from audiohub.access.ratelimit import RateLimits
from audiohub.access.service import AccessService
from audiohub.config import AuthSettings
from audiohub.errors import BackendUnavailableError, ForbiddenError, UnauthorizedError

KEY_HEADER = "X-API-Key"
SESSION_COOKIE = "audiohub_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Dependency = Callable[[Request], Awaitable[Principal]]


def access_of(request: Request) -> AccessService:
    service: AccessService = request.app.state.access
    return service


def limits_of(request: Request) -> RateLimits:
    limits: RateLimits = request.app.state.rate_limits
    return limits


def address_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def sent_key(request: Request) -> str | None:
    """`Authorization: Bearer KEY` or `X-API-Key: KEY`."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get(KEY_HEADER) or None


def trusted_networks(settings: AuthSettings) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(c.strip(), strict=False)
            for c in settings.proxy_trusted.split(",") if c.strip()]


def _from_trusted_proxy(address: str | None, settings: AuthSettings) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:  # Starlette's TestClient calls itself "testclient"
        return False
    return any(ip in net for net in trusted_networks(settings))


def proxy_csrf(secret: bytes, subject: str) -> str:
    """A proxy-signed-in user has no session row: their CSRF token is derived from a secret
    only the server holds, so another site cannot know it."""
    return hmac.new(secret, subject.encode(), hashlib.sha256).hexdigest()


def _resolve(request: Request) -> Principal:
    settings: AuthSettings = request.app.state.settings.auth
    access = access_of(request)
    key = sent_key(request)
    if key is not None:
        found = access.by_key(key)
        if found is None:
            raise UnauthorizedError("the API key is not valid: unknown, revoked or expired")
        return found
    # Anyone can write the proxy's header: from an untrusted address it means nothing.
    user = request.headers.get(settings.proxy_header) if settings.proxy_header else None
    if user and _from_trusted_proxy(address_of(request), settings):
        found = access.by_proxy(user)
        if found is None:
            raise UnauthorizedError(f"the user {user!r} is disabled on this hub")
        csrf = proxy_csrf(request.app.state.csrf_secret, found.subject)
        return Principal(found.subject, found.role, "proxy", csrf)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        return access.by_session(token) or ANONYMOUS
    return ANONYMOUS


async def principal_of(request: Request) -> Principal:
    """Who sent this request, worked out once per request."""
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    settings: AuthSettings = request.app.state.settings.auth
    try:
        principal = LOCAL if not settings.enabled else await to_thread.run_sync(
            _resolve, request)
    except SQLAlchemyError as exc:
        # Keys and sessions live in the database: while it is away nobody can be checked.
        raise BackendUnavailableError(
            "the database that holds keys and sessions does not answer; try again shortly"
        ) from exc
    request.state.principal = principal
    return principal


def check_same_origin(request: Request) -> None:
    """Browsers say where a request comes from: `Sec-Fetch-Site`, and the page's origin in
    `Origin` (or `Referer`) on every POST; a form on another site names its own. Clients that
    are not browsers send neither."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise ForbiddenError(f"a form from another site ({site}) may not change this hub; "
                             "use its own pages")
    sender = request.headers.get("origin") or request.headers.get("referer")
    if sender and urlsplit(sender).netloc != request.headers.get("host"):
        raise ForbiddenError(f"a form from {urlsplit(sender).netloc or sender!r} may not change "
                             "this hub; use its own pages")


async def check_csrf(request: Request, expected: str) -> None:
    """The token from the X-CSRF-Token header, the `csrf_token` query parameter (multipart
    forms, whose body is read later, under their own limits) or a url-encoded form field."""
    sent = request.headers.get(CSRF_HEADER) or request.query_params.get(CSRF_FIELD)
    content_type = request.headers.get("content-type", "")
    if not sent and content_type.startswith("application/x-www-form-urlencoded"):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise ForbiddenError("this form has no valid CSRF token (it is older than your "
                             "sign-in, or not from this hub): reload the page and try again")


class Requirement:
    """The dependency a route declares: `Depends(requires(Permission.X))`. The route-coverage
    test finds these in every route's dependencies."""

    def __init__(self, permission: Permission, limit: str | None = None) -> None:
        self.permission = permission
        self.limit = limit

    async def __call__(self, request: Request) -> Principal:
        unsafe = request.method not in SAFE_METHODS
        principal = await principal_of(request)
        if unsafe and principal.via in ("session", "proxy", "none", "off"):
            check_same_origin(request)
        if self.permission is Permission.PUBLIC:
            return principal
        if principal.anonymous:
            raise UnauthorizedError("sign in, or send an API key (Authorization: Bearer KEY "
                                    "or X-API-Key: KEY)")
        if not principal.can(self.permission):
            raise ForbiddenError(f"your role ({principal.role}) may not do this: it needs "
                                 f"{self.permission.value}")
        if unsafe and principal.csrf is not None:
            await check_csrf(request, principal.csrf)
        if self.limit == "upload":
            limits = limits_of(request)
            await to_thread.run_sync(limits.hit, limits.upload, "upload", principal.subject)
        return principal

    def __repr__(self) -> str:
        return f"requires({self.permission.value})"


def requires(permission: Permission, *, limit: str | None = None) -> Any:
    """`Depends(requires(...))` for a route: the permission it needs, and `limit="upload"` for
    routes that take recordings (RATE_LIMIT_UPLOADS per user or key)."""
    return Requirement(permission, limit)


# The principal of a route that reads calls or jobs: every one, or (calls:read_own alone) only
# those it submitted; `principal.owner_scope` says which.
Reader = Annotated[Principal, Depends(requires(Permission.CALLS_READ_OWN))]
