"""Every response of the gateway carries the security headers; no page needs what the CSP
refuses; the API docs are behind a sign-in and load only their packaged assets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from audiohub.access.headers import CSP, HSTS
from audiohub.config import AuthSettings
from audiohub.gateway.app import create_app
from audiohub.web import charts
from audiohub.web.docs import ASSETS_DIR
from tests.conftest import make_settings
from tests.keys import authorize

HTML = {"accept": "text/html,application/xhtml+xml"}
WEB = Path(__file__).resolve().parents[2] / "src" / "audiohub" / "web"
FIXED = {"x-content-type-options": "nosniff", "x-frame-options": "DENY",
         "referrer-policy": "same-origin"}
# What a strict CSP refuses in markup: a <script> with a body, <style> elements, style=
# attributes, on* handler attributes and javascript: URLs.
INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "style element": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "handler attribute": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def directives(csp: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in csp.split(";"))}


def assert_secured(response_headers: dict[str, str] | object, where: str,
                   csp: str = CSP) -> None:
    headers = dict(response_headers)  # type: ignore[call-overload]
    lowered = {k.lower(): v for k, v in headers.items()}
    assert lowered.get("content-security-policy") == csp, where
    for name, value in FIXED.items():
        assert lowered.get(name) == value, (where, name)
    assert "strict-transport-security" not in lowered, where


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("headers") / "data")
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="module")
def admin(client: TestClient) -> TestClient:
    """A second client of the same (started) app, signed in with an admin's key."""
    signed = TestClient(client.app)
    return authorize(signed, "admin")


def test_the_policy_allows_no_inline_script_anywhere() -> None:
    policy = directives(CSP)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]


@pytest.mark.parametrize("path", [
    "/ui/", "/ui/stats", "/ui/prompts", "/ui/prompts/banking/card_block", "/ui/upload",
    "/ui/admin", "/ui/audit", "/ui/calls/999", "/api/calls", "/api/me", "/api/audit",
    "/api/calls/999", "/health", "/", "/ui/static/app.js", "/ui/static/app.css",
])
def test_every_page_and_api_answer_carries_the_headers(admin: TestClient, path: str) -> None:
    r = admin.get(path)
    assert r.status_code == (404 if "999" in path else 200), (path, r.text[:300])
    assert_secured(r.headers, path)


def test_refusals_carry_the_headers_too(client: TestClient) -> None:
    anonymous = TestClient(client.app)
    login = anonymous.get("/ui/login")
    assert login.status_code == 200
    assert_secured(login.headers, "/ui/login")
    refused = anonymous.get("/api/calls")
    assert refused.status_code == 401
    assert_secured(refused.headers, "401")
    redirect = anonymous.get("/ui/stats", follow_redirects=False)
    assert redirect.status_code == 303
    assert_secured(redirect.headers, "303 to the sign-in")
    wrong_host = anonymous.get("/api/calls", headers={"host": "evil.example"})
    assert wrong_host.status_code == 400
    assert_secured(wrong_host.headers, "host_not_allowed")


def test_hsts_only_when_the_cookie_is_secure(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", auth=AuthSettings(cookie_secure=True))
    with TestClient(create_app(settings)) as c:
        r = c.get("/health")
        assert r.headers["strict-transport-security"] == HSTS
        assert c.get("/ui/login").headers["strict-transport-security"] == HSTS


@pytest.mark.parametrize("template", sorted(p.name for p in (WEB / "templates").glob("*.html")))
def test_no_template_needs_what_the_csp_refuses(template: str) -> None:
    text = (WEB / "templates" / template).read_text()
    for what, pattern in INLINE.items():
        assert not pattern.search(text), f"{template} has an {what}: {pattern.search(text)}"


def test_charts_draw_with_attributes_not_styles() -> None:
    bars = [charts.Bar("banking", 3), charts.Bar("healthcare", -0.4, "note")]
    drawn = [charts.hbars("by domain", bars), charts.columns("per day", bars),
             charts.timeline("sentiment", [(0, 2, 0.5), (2, 5, -0.3)], 5)]
    for svg in drawn:
        assert "<svg" in svg
        for what, pattern in INLINE.items():
            assert not pattern.search(svg), what


def test_the_docs_need_a_sign_in(client: TestClient) -> None:
    anonymous = TestClient(client.app)
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert anonymous.get(path).status_code == 401, path
    page = anonymous.get("/docs", headers=HTML, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/ui/login?next=%2Fdocs"


def _local_assets(html: str) -> list[str]:
    urls = re.findall(r"""(?:src|href|spec-url)="([^"]+)\"""", html)
    assert urls
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), f"not a local asset: {url}"
    return urls


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_docs_load_only_local_assets_with_no_inline_script(admin: TestClient,
                                                               path: str) -> None:
    r = admin.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    policy = directives(r.headers["content-security-policy"])
    # The bundles inject styles; scripts stay files only.
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" in policy["style-src"]
    assert policy["frame-ancestors"] == ["'none'"]
    for what, pattern in INLINE.items():
        assert not pattern.search(r.text), what
    for url in _local_assets(r.text):
        fetched = admin.get(url)
        assert fetched.status_code == 200, url
        assert fetched.content, url


def test_the_docs_pages_name_the_bundles_and_the_schema(admin: TestClient) -> None:
    swagger = admin.get("/docs").text
    assert "/docs/assets/swagger-ui-bundle.js" in swagger
    assert "/docs/assets/swagger-ui.css" in swagger
    assert "/ui/static/docs.js" in swagger
    redoc = admin.get("/redoc").text
    assert '<redoc spec-url="/openapi.json">' in redoc
    assert '<script src="/docs/redoc.js">' in redoc
    # ReDoc's bundle with Redocly's logo served from the package, not their CDN (CSP, air gap).
    script = admin.get("/docs/redoc.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert b"cdn.redoc.ly" not in script.content and b"/docs/assets/favicon.png" in script.content
    assert TestClient(admin.app).get("/docs/redoc.js").status_code == 401
    init = admin.get("/ui/static/docs.js").text
    assert 'url: "/openapi.json"' in init and 'dom_id: "#swagger-ui"' in init


def test_the_asset_mount_serves_the_packaged_bundles(client: TestClient) -> None:
    anonymous = TestClient(client.app)
    for name in ("swagger-ui-bundle.js", "redoc.standalone.js", "swagger-ui.css"):
        r = anonymous.get(f"/docs/assets/{name}")
        assert r.status_code == 200, name
        assert r.content == (ASSETS_DIR / name).read_bytes()
        assert_secured(r.headers, name)
    assert "javascript" in anonymous.get("/docs/assets/swagger-ui-bundle.js").headers[
        "content-type"]
    assert anonymous.get("/docs/assets/../docs.py").status_code == 404


def test_the_schema_lists_the_api(admin: TestClient) -> None:
    schema = admin.get("/openapi.json").json()
    assert schema["info"]["title"] == "Audio Magic Hub"
    assert "/api/calls" in schema["paths"] and "/api/me" in schema["paths"]
    # The dashboard and the docs themselves are not API.
    assert not [p for p in schema["paths"] if p.startswith("/ui") or p in ("/docs", "/redoc")]
