"""Who may see and do what, in a real browser against a real hub on loopback: signing in and
out, a viewer's pages without upload or edit controls, forms posted from another site refused
(the session cookie in the browser notwithstanding), and the Content Security Policy: sent on
every page, in force, and broken by none of them."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Error, Page, Response, expect

from tests.conftest import AUDIO
from tests.web.conftest import PASSWORD, SEEDED, USERS, Hub, sign_in

PROMPT = "/ui/prompts/banking/card_block"
# What the browser reports when a page breaks its policy (console) and the event's own prefix.
VIOLATION = re.compile(r"Content Security Policy|Refused to|securitypolicyviolation")
# Recorded from the page itself: the console message chromium writes may be worded otherwise.
REPORT_VIOLATIONS = """document.addEventListener('securitypolicyviolation', (e) =>
    console.error('securitypolicyviolation: ' + e.effectiveDirective + ' blocked '
                  + (e.blockedURI || 'inline') + ' on ' + e.documentURI));"""


# --- another site, for the forms it posts -----------------------------------------------------

class OtherSite:
    """A plain web server on another loopback port, serving whatever pages a test gives it: the
    page of a site that is not the hub, open in the same browser as the hub's session."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path, "not here").encode()
                self.send_response(200 if self.path in pages else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port: int = self.server.server_address[1]

    def url(self, host: str, path: str, html: str) -> str:
        self.pages[path] = f"<!doctype html><title>Win a prize</title><body>{html}</body>"
        return f"http://{host}:{self.port}{path}"


@pytest.fixture(scope="module")
def other_site() -> Iterator[OtherSite]:
    site = OtherSite()
    thread = threading.Thread(target=site.server.serve_forever, daemon=True)
    thread.start()
    yield site
    site.server.shutdown()
    site.server.server_close()


def hidden(**fields: str) -> str:
    return "".join(f'<input type="hidden" name="{k}" value="{escape(v)}">'
                   for k, v in fields.items())


def prompt_version(page: Page, hub_url: str) -> tuple[int, int]:
    """The prompt's current version and how many versions its history lists, as the hub shows
    them to its signed-in user."""
    page.goto(f"{hub_url}{PROMPT}")
    version = int(re.findall(r"version (\d+)", page.locator(".facts").inner_text())[0])
    return version, page.locator(".history > li").count()


def jobs_total(hub: Hub) -> int:
    r = httpx.get(f"{hub.url}/api/jobs", headers={"Authorization": f"Bearer {hub.key}"})
    assert r.status_code == 200, r.text
    total: int = r.json()["total"]
    return total


# --- signing in and out -----------------------------------------------------------------------

def test_sign_in_see_the_calls_and_sign_out(page: Page, hub_url: str) -> None:
    page.goto(f"{hub_url}/ui/")
    page.wait_for_url(re.compile(r"/ui/login\?next=%2Fui%2F$"))  # nobody signed in yet
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page.locator("nav")).to_have_count(0)  # no menu for anonymous visitors

    page.fill("input[name=username]", USERS["admin"])
    page.fill("input[name=password]", "not the password at all")
    page.click("button:has-text('Sign in')")
    expect(page.locator(".notice.error")).to_contain_text("wrong user name or password")
    expect(page.locator("input[name=username]")).to_have_value(USERS["admin"])

    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{hub_url}/ui/")  # back where the hub first sent us away from
    expect(page.locator("#signed-in-as")).to_have_text(USERS["admin"])
    expect(page.locator(".who")).to_contain_text("(admin)")
    assert page.locator("table.calls tbody tr").count() >= len(SEEDED)
    cookie = next(c for c in page.context.cookies() if c["name"] == "audiohub_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    page.click("button:has-text('Sign out')")
    page.wait_for_url(f"{hub_url}/ui/login")
    page.goto(f"{hub_url}/ui/")
    page.wait_for_url(re.compile(r"/ui/login\?"))
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page.locator("#signed-in-as")).to_have_count(0)
    # The session ended on the server too: its cookie, put back, signs nobody in.
    page.context.add_cookies([{"name": cookie["name"], "value": cookie["value"],
                               "url": hub_url}])
    page.goto(f"{hub_url}/ui/")
    page.wait_for_url(re.compile(r"/ui/login\?"))


# --- a viewer reads, and changes nothing ------------------------------------------------------

def test_a_viewer_sees_no_upload_or_prompt_edit_controls(page: Page, hub_url: str) -> None:
    sign_in(page, hub_url, "viewer")
    page.goto(f"{hub_url}/ui/")
    assert page.locator("table.calls tbody tr").count() >= len(SEEDED)  # reads every call
    nav = page.locator("nav[aria-label=Main]")
    expect(nav.locator("a", has_text="Calls")).to_have_count(1)
    expect(nav.locator("a", has_text="Prompts")).to_have_count(1)
    expect(nav.locator("a", has_text="Upload")).to_have_count(0)
    expect(nav.locator("a", has_text="Admin")).to_have_count(0)
    expect(page.locator("a[href^='/ui/upload']")).to_have_count(0)

    page.goto(f"{hub_url}{PROMPT}")
    expect(page.locator("h1")).to_have_text("banking / card_block")
    assert page.locator(".history > li").count() >= 1  # the history is there to read
    expect(page.locator("main form")).to_have_count(0)
    expect(page.locator("main textarea, main input, main button")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("Your role (viewer) reads prompts")

    # Typed into the address bar, the upload page is refused, and it has no form either.
    response = page.goto(f"{hub_url}/ui/upload")
    assert response is not None and response.status == 403
    expect(page.locator("#files")).to_have_count(0)

    # A viewer who writes the edit by hand, from the hub's own page with its CSRF token, is
    # refused by the role, not just by the missing form.
    status = page.evaluate("""async (path) => {
        const form = new URLSearchParams({version: '1', action: 'save', prompt: 'x', fields: 'x'});
        const csrf = document.querySelector('meta[name="csrf-token"]').content;
        const r = await fetch(path, {method: 'POST', body: form, headers: {'X-CSRF-Token': csrf}});
        return r.status;
    }""", PROMPT)
    assert status == 403


# --- forms from another site ------------------------------------------------------------------

# 127.0.0.1 on another port is the same site (ports do not count), so the browser sends the
# session cookie and the hub itself must refuse (Sec-Fetch-Site, Origin); localhost is another
# site, whose POST the SameSite=Lax cookie does not go with: refused as anonymous and foreign.
OTHER_HOSTS = ["127.0.0.1", "localhost"]


def _submit_from(page: Page, url: str, prepare: Callable[[], None] = lambda: None) -> Response:
    page.goto(url)
    prepare()
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("button")  # the visitor is lured into one click
    return answer.value


@pytest.mark.parametrize("host", OTHER_HOSTS)
def test_a_prompt_edit_posted_from_another_site_is_refused(
        page: Page, hub_url: str, other_site: OtherSite, host: str) -> None:
    sign_in(page, hub_url)
    version, versions = prompt_version(page, hub_url)
    fields = page.locator("textarea[name=fields]").input_value()  # a valid edit, if let in
    form = (f'<form method="post" action="{hub_url}{PROMPT}">'
            + hidden(version=str(version), action="save", description="owned",
                     prompt="Say every card number out loud.", fields=fields)
            + "<button>Claim your prize</button></form>")
    answer = _submit_from(page, other_site.url(host, f"/prompt-{host}", form))
    assert answer.url == f"{hub_url}{PROMPT}"
    assert answer.status == 403
    expect(page.locator("main")).to_contain_text("another site")

    assert prompt_version(page, hub_url) == (version, versions)  # nothing saved
    expect(page.locator("textarea[name=prompt]")).not_to_have_value(
        "Say every card number out loud.")


@pytest.mark.parametrize("host", OTHER_HOSTS)
def test_an_upload_posted_from_another_site_is_refused(
        page: Page, hub: Hub, other_site: OtherSite, host: str) -> None:
    sign_in(page, hub.url)
    before = jobs_total(hub)
    form = (f'<form method="post" action="{hub.url}/api/jobs" enctype="multipart/form-data">'
            '<input type="file" name="file"><button>Send</button></form>')
    answer = _submit_from(page, other_site.url(host, f"/upload-{host}", form),
                          lambda: page.set_input_files("input[type=file]",
                                                       str(AUDIO / SEEDED[0])))
    assert answer.url == f"{hub.url}/api/jobs"
    assert answer.status == 403
    assert "another site" in answer.json()["detail"]
    assert jobs_total(hub) == before  # no job made


def test_another_site_cannot_frame_the_hub(page: Page, hub_url: str,
                                           other_site: OtherSite) -> None:
    sign_in(page, hub_url)
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    # Same site, so the session cookie goes along and the hub answers with the prompt's form:
    # frame-ancestors 'none' makes the browser show an error in the frame instead.
    with page.expect_response(f"{hub_url}{PROMPT}") as answer:
        page.goto(other_site.url("127.0.0.1", "/frame",
                                 f'<iframe src="{hub_url}{PROMPT}" width="800" height="600">'
                                 "</iframe>"))
    assert answer.value.status == 200
    page.wait_for_load_state("load")
    framed = next(f for f in page.frames if f != page.main_frame)
    expect(framed.locator("textarea")).to_have_count(0)
    assert any("frame-ancestors" in m for m in messages), messages


# --- the Content Security Policy --------------------------------------------------------------

def _directives(policy: str) -> dict[str, list[str]]:
    parts = (d.split() for d in policy.split(";") if d.strip())
    return {p[0].lower(): p[1:] for p in parts}


def check_headers(response: Response | None) -> None:
    """The page came, with its policy: no inline or eval'd script allowed, not to be framed."""
    assert response is not None, "no response"
    where = urlsplit(response.url).path
    assert response.status == 200, f"{where}: {response.status}"
    headers = response.headers
    assert "content-security-policy" in headers, f"{where} sends no Content-Security-Policy"
    policy = _directives(headers["content-security-policy"])
    scripts = policy.get("script-src", policy.get("default-src"))
    assert scripts is not None, f"{where}: no script-src or default-src"
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, where
    assert policy.get("frame-ancestors") == ["'none'"], where
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") == "same-origin", where


@pytest.fixture
def reported(page: Page) -> list[str]:
    """What the page's console says, its uncaught errors, and every CSP violation event."""
    seen: list[str] = []
    page.add_init_script(REPORT_VIOLATIONS)

    def on_console(m: ConsoleMessage) -> None:
        seen.append(f"{m.type} at {m.location.get('url') or page.url}: {m.text}")

    def on_error(e: Error) -> None:
        seen.append(f"pageerror at {page.url}: {e.message}")

    page.on("console", on_console)
    page.on("pageerror", on_error)
    return seen


def test_every_page_keeps_to_its_content_security_policy(
        page: Page, hub: Hub, reported: list[str]) -> None:
    check_headers(page.goto(f"{hub.url}/ui/login"))
    sign_in(page, hub.url)

    check_headers(page.goto(f"{hub.url}/ui/"))
    page.locator("table.calls tbody a").first.click()
    page.wait_for_url(re.compile(r"/ui/calls/\d+$"))
    check_headers(page.reload())
    page.locator("table.values a.evidence[data-seek]").first.click()  # the script seeks
    page.wait_for_function("document.getElementById('player').currentTime > 0")

    # Upload by script (XHR to /api/jobs, then polling): a seeded recording, ended at once.
    check_headers(page.goto(f"{hub.url}/ui/upload"))
    page.set_input_files("#files", [str(AUDIO / SEEDED[0]), str(AUDIO / SEEDED[1])])
    page.click("text=Upload and analyse")
    expect(page.locator("#uploads .job.done a.button")).to_have_count(2, timeout=60_000)
    r = httpx.post(f"{hub.url}/api/jobs", headers={"Authorization": f"Bearer {hub.key}"},
                   files={"file": (SEEDED[2], (AUDIO / SEEDED[2]).read_bytes())})
    assert r.status_code == 202, r.text
    check_headers(page.goto(f"{hub.url}/ui/jobs?id={r.json()['job_id']}"))

    for path in ("/ui/stats", "/ui/prompts", PROMPT, "/ui/admin", "/ui/audit"):
        check_headers(page.goto(f"{hub.url}{path}"))
        page.wait_for_load_state("networkidle")
    # The API's docs, served from the package: they must draw, not only arrive.
    check_headers(page.goto(f"{hub.url}/docs"))
    expect(page.locator(".swagger-ui .info .title")).to_be_visible(timeout=20_000)
    check_headers(page.goto(f"{hub.url}/redoc"))
    expect(page.locator(".api-info h1, [role=navigation]").first).to_be_visible(timeout=20_000)
    page.wait_for_load_state("networkidle")

    page.goto(f"{hub.url}/ui/")
    page.click("button:has-text('Sign out')")
    page.wait_for_url(f"{hub.url}/ui/login")
    check_headers(page.reload())

    violations = [m for m in reported if VIOLATION.search(m)]
    assert violations == [], "\n".join(violations)
    errors = [m for m in reported if m.startswith("pageerror")]
    assert errors == [], "\n".join(errors)


def test_the_policy_is_in_force(page: Page, hub_url: str, reported: list[str]) -> None:
    """Not only sent: a script slipped into a page (say, by a transcript that escaped its
    escaping) does not run, and the browser reports it."""
    sign_in(page, hub_url)
    page.goto(f"{hub_url}/ui/")
    ran = page.evaluate("""() => new Promise((resolve) => {
        const s = document.createElement('script');
        s.textContent = 'window.injected = true';
        document.addEventListener('securitypolicyviolation', () => resolve(!!window.injected));
        document.body.append(s);
        setTimeout(() => resolve(window.injected ? 'ran' : 'no report'), 3000);
    })""")
    assert ran is False
    assert any("securitypolicyviolation: script-src" in m for m in reported), reported
