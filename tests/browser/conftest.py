"""Real headless Chromium (Debian's package) driven by Playwright against a local stack.

Without a browser the tests skip and say why (pytest -rs shows it; `make test` installs Chromium
with apt-get when it can). Playwright never downloads a browser here: it starts /usr/bin/chromium.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.client import Client
from vegskriv.local.stack import LocalStack

CHROMIUM = os.environ.get("VEGSKRIV_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM or not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Chromium mangler ({CHROMIUM or 'ikke på PATH'}): installer med `apt-get install -y chromium` "
                    "(make test gjør det som root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright mangler: pip install -e '.[dev]'")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    # Long lock-wait pauses: a waiting changeset that resumes quickly was woken or restarted.
    with LocalStack(port=0, env={"POWERTOOLS_LOG_LEVEL": "CRITICAL", "WAIT_FIRST_SECONDS": "30"}) as running:
        yield running


@pytest.fixture()
def page(chromium, stack):
    context = chromium.new_context(base_url=stack.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, errors  # a script error in the page fails the test that saw it


def login(page, user: str = "olanor", where: str = "/kontrollpanel#/jobs") -> None:
    """Through the OIDC login form; the local stack's password is the user name and its roles come from
    OIDC_LOCAL_USERS (systemadmin: 9_system_admin, fagadmin: 5_fagdata_admin, others 0_bruker_fagdata)."""
    page.goto(where)
    page.fill("input[name=brukernavn]", user)
    page.fill("input[name=passord]", user)
    page.click("button[type=submit]")


SCREENSHOTS = os.environ.get("VEGSKRIV_SCREENSHOTS")  # a directory: `make screenshots` sets docs/img


def screenshot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"))  # the viewport: small images


@pytest.fixture(scope="module")
def admin(stack) -> Client:
    return Client(stack.url, "systemadmin", ("9_system_admin",))
