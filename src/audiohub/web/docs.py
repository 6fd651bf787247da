"""The API's docs on the gateway, behind a sign-in: /openapi.json, Swagger UI at /docs and
ReDoc at /redoc. Their scripts and styles come from the fastapi-offline package (mounted at
/docs/assets), not a CDN, so they work on an air-gapped install; the pages are our own
templates with no inline script, so the strict CSP holds (see access/headers.py)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from audiohub.access.guard import requires
from audiohub.access.permissions import Permission
from audiohub.web.endpoints import render

ASSETS = "/docs/assets"
ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"

router = APIRouter(include_in_schema=False,
                   dependencies=[Depends(requires(Permission.SIGNED_IN))])


def install_docs(app: FastAPI) -> None:
    """/openapi.json, /docs, /redoc and their assets. The assets are the packaged bundles,
    the same for everyone, so they need no sign-in (the pages and the schema do)."""
    app.mount(ASSETS, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    app.include_router(router)


@router.get("/openapi.json")
async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    return render(request, "swagger.html", title=request.app.title, assets=ASSETS)


# ReDoc's footer shows Redocly's logo from their CDN: the CSP blocks it (a console violation on
# every load, and a request that can never succeed air-gapped). The packaged icon stands in.
_REDOCLY_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@cache
def _redoc_script() -> bytes:
    script = (ASSETS_DIR / "redoc.standalone.js").read_bytes()
    return script.replace(_REDOCLY_LOGO, f"{ASSETS}/favicon.png".encode())


@router.get("/docs/redoc.js", response_class=Response)
async def redoc_script() -> Response:
    return Response(_redoc_script(), media_type="text/javascript",
                    headers={"Cache-Control": "private, max-age=86400"})


@router.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    return render(request, "redoc.html", title=request.app.title, assets=ASSETS)
