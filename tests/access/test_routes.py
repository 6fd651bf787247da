"""Deny by default: every route of the gateway (with the dashboard, the jobs and the docs)
declares the permission it needs, and only the allow-listed ones are open to anyone.

The app is built, not started: routes exist from `create_app`, so no model is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Mount

from audiohub.access.guard import Requirement
from audiohub.access.permissions import Permission
from audiohub.gateway.app import create_app
from tests.conftest import make_settings

# Mounts serve files without a dependency tree of their own; these are the only ones allowed.
OPEN_MOUNTS = {
    "/ui/static": "the dashboard's own CSS and script, the same for everyone; the login page "
                  "needs them before anyone has signed in",
    "/docs/assets": "Swagger UI's and ReDoc's packaged bundles (fastapi-offline): public code, "
                    "no data; the /docs and /redoc pages that use them need a sign-in",
}

# The only routes anyone may call (issue 14: liveness, signing in, the first admin's setup).
PUBLIC_ROUTES = {
    ("GET", "/health"),       # the seed's status; details need health:detail
    ("GET", "/health/live"),  # liveness: the process answers, nothing else
    ("GET", "/health/ready"),  # readiness: which parts are down; details need health:detail
    ("GET", "/ui/login"),
    ("POST", "/ui/login"),
    ("GET", "/ui/setup"),     # the one-time link checks its own token
    ("POST", "/ui/setup"),
    ("GET", "/ui"),           # a redirect to /ui/, which asks for a sign-in
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    built: FastAPI = create_app(make_settings(tmp_path_factory.mktemp("routes") / "data"))
    return built


def requirements(dependant: Dependant) -> list[Requirement]:
    """Every `requires(...)` in a route's dependency tree, however deep."""
    found: list[Requirement] = []
    for dep in dependant.dependencies:
        if isinstance(dep.call, Requirement):
            found.append(dep.call)
        found.extend(requirements(dep))
    return found


def api_routes(app: FastAPI) -> list[tuple[str, str, list[Requirement]]]:
    """(method, path, requirements) of every API route, the included routers' too: FastAPI
    keeps those behind an entry of `app.routes` and adds the router's own dependencies at
    inclusion, which `iter_route_contexts` resolves."""
    rows: list[tuple[str, str, list[Requirement]]] = []
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            dependant: Dependant = context.dependant
            reqs = requirements(dependant)
            rows.extend((m, context.path or "", reqs) for m in sorted(context.methods or ()))
    return rows


def test_every_route_declares_a_permission(app: FastAPI) -> None:
    routes = api_routes(app)
    assert len(routes) > 25  # the walk found the included routers, not only app.routes' top
    offenders = [f"{m} {p}" for m, p, reqs in routes if not reqs]
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            continue
        if isinstance(route, Mount):
            if route.path not in OPEN_MOUNTS:
                offenders.append(f"mount {route.path} ({route.name})")
        else:  # a plain Starlette route or a websocket has no place for a Requirement
            offenders.append(f"{type(route).__name__} {getattr(route, 'path', route)!r}")
    assert not offenders, "routes without `Depends(requires(Permission.X))`:\n" + "\n".join(
        offenders)


def test_only_the_allow_listed_routes_are_public(app: FastAPI) -> None:
    public = {(m, p) for m, p, reqs in api_routes(app)
              if reqs and all(r.permission is Permission.PUBLIC for r in reqs)}
    assert public == PUBLIC_ROUTES, (
        f"public but not allow-listed: {sorted(public - PUBLIC_ROUTES)}; "
        f"allow-listed but not public: {sorted(PUBLIC_ROUTES - public)}")


def test_the_open_mounts_exist(app: FastAPI) -> None:
    """The allow-list names real mounts, so a renamed one is noticed, not silently open."""
    mounts = {c.original_route.path for c in iter_route_contexts(app.routes)
              if isinstance(c.original_route, Mount)}
    assert mounts <= set(OPEN_MOUNTS)
    assert "/ui/static" in mounts


def test_a_route_without_a_requirement_is_caught(tmp_path: Path) -> None:
    """The walk itself: a route added with no permission is reported, by method and path."""
    app = create_app(make_settings(tmp_path / "data"))

    @app.get("/api/forgotten")  # type: ignore[untyped-decorator]
    async def forgotten() -> dict[str, str]:
        return {}

    assert [(m, p) for m, p, reqs in api_routes(app) if not reqs] == [("GET", "/api/forgotten")]
