"""A real browser against a real hub: Debian's chromium, driven by Playwright, and `audiohub
serve` on a loopback port with its embedded defaults (SQLite, local models, in-process jobs).

The hub has a user of each role (USERS, all with PASSWORD), made in its database before it
starts; a test signs its page in through the login form, as a person does (`sign_in`).

Screenshots of every page land in test-output/ui/ (AUDIOHUB_TEST_OUTPUT to move it)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from audiohub.access.permissions import ROLES
from audiohub.access.service import AccessService
from audiohub.config import RoleName, Settings
from audiohub.persistence.db import Database, migrate
from tests.conftest import AUDIO, make_settings
from tests.keys import key_for
from tests.processes import one_process

CHROMIUM = os.environ.get("AUDIOHUB_TEST_CHROMIUM", "/usr/bin/chromium")
# Three calls of three domains, stored before the browser opens (the upload test adds its own).
SEEDED = ("banking_card_block_16k.wav", "ecommerce_refund_16k.wav",
          "healthcare_appointment_16k.wav")


@pytest.fixture(scope="session")
def shots() -> Path:
    out = Path(os.environ.get("AUDIOHUB_TEST_OUTPUT", "test-output")) / "ui"
    out.mkdir(parents=True, exist_ok=True)
    return out


USERS: dict[RoleName, str] = {role: f"{role}-ann" for role in ROLES}
PASSWORD = "a long enough test password"


@dataclass(frozen=True)
class Hub:
    url: str
    key: str  # an admin's API key, for what a test checks behind the browser's back


def _make_users(settings: Settings) -> None:
    db = Database(settings.database_url)
    try:
        migrate(db.engine)
        access = AccessService(db, settings.auth, settings.data_dir)
        for role, name in USERS.items():
            access.create_user(name, PASSWORD, role, "tests")
    finally:
        db.engine.dispose()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """One hub for a module's tests, with its users, and the seeded calls stored through the
    API."""
    root = tmp_path_factory.mktemp("ui-hub")
    settings = make_settings(root / "data")
    key = key_for(settings, "admin")
    _make_users(settings)
    with one_process(root / "data", root / "server.log", WORKERS="1") as url:
        with httpx.Client(base_url=url, timeout=300,
                          headers={"Authorization": f"Bearer {key}"}) as client:
            for name in SEEDED:
                with (AUDIO / name).open("rb") as f:
                    r = client.post("/api/transcribe/", files={"file": (name, f)})
                assert r.status_code == 200, r.text
        yield Hub(url, key)


@pytest.fixture(scope="module")
def hub_url(hub: Hub) -> str:
    return hub.url


def sign_in(page: Page, hub_url: str, role: RoleName = "admin") -> None:
    """Through the login form, as a person does: the page then shows who is signed in."""
    page.goto(f"{hub_url}/ui/login")
    page.fill("input[name=username]", USERS[role])
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    expect(page.locator("#signed-in-as")).to_have_text(USERS[role])


# Module-scoped, not session: Playwright's sync API keeps an event loop running in the main
# thread while it is open, and a later test calling anyio.run there (a job run directly) would
# fail with "Cannot run the event loop while another loop is running".
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail(f"no chromium at {CHROMIUM}; `make test` installs Debian's chromium")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    # Playwright's own browser download does not work offline: the system's chromium does.
    browser = playwright.chromium.launch(executable_path=CHROMIUM)
    yield browser
    browser.close()


def _page(browser: Browser, **options: Any) -> Iterator[Page]:
    """A page in a fresh browser context (its own cookies and cache), closed afterwards."""
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    yield from _page(browser, viewport={"width": 1280, "height": 900})


@pytest.fixture
def page_no_js(browser: Browser) -> Iterator[Page]:
    yield from _page(browser, java_script_enabled=False, viewport={"width": 1280, "height": 900})


@pytest.fixture
def browser_phone(browser: Browser) -> Iterator[Page]:
    yield from _page(browser, viewport={"width": 390, "height": 844}, is_mobile=True,
                     has_touch=True, device_scale_factor=2)
