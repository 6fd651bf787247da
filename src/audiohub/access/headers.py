"""The headers every gateway response carries: a strict Content-Security-Policy, no MIME
sniffing, no framing, same-origin referrers, and HSTS when the hub is reached over TLS.

The dashboard needs no inline script or style (its one script and one stylesheet are files),
so the policy allows neither. Only the API docs pages loosen it: Swagger UI and ReDoc inject
<style> elements at run time, and ReDoc runs its search in a worker made from a blob: URL.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from audiohub.config import Settings

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
# Never inline script, on these pages either: only styles the bundles inject.
DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
DOCS_CSP_PAGES = {"/docs": DOCS_CSP, "/redoc": DOCS_CSP + "; worker-src 'self' blob:"}
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """Pure ASGI, so streamed bodies (recordings, exports) pass through untouched: only the
    response's start message is changed."""

    def __init__(self, app: ASGIApp, hsts: bool) -> None:
        self.app = app
        self.fixed = {
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "same-origin",
        }
        if hsts:
            self.fixed["Strict-Transport-Security"] = HSTS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP_PAGES.get(scope["path"], CSP)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = csp
                for name, value in self.fixed.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_security_headers(app: FastAPI, settings: Settings) -> None:
    """Outermost of the hub's middleware when installed last, so refusals made by the others
    (a wrong Host, an oversized body) carry the headers too. HSTS only with
    AUTH_COOKIE_SECURE=true: that setting says the hub is reached over https."""
    app.add_middleware(SecurityHeaders, hsts=settings.auth.cookie_secure)
