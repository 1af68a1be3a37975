"""Real-browser fixtures: Debian's /usr/bin/chromium driven by Playwright's sync API.

Never run `playwright install`; the system chromium is used (see /work/shared/RUNTIME.md).
Tests here use pytest-django's `live_server`, which serves static files through
django.contrib.staticfiles' StaticFilesHandler (finders), so admin CSS and the
drf-spectacular-sidecar Swagger assets load without collectstatic.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} not found: install Debian's chromium (`make chromium` or "
            "`apt-get install chromium`) to run the browser tests"
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop marked as running in this thread until it
    # stops. While it runs, Django refuses ORM calls (SynchronousOnlyOperation), hence the
    # variable, and keeps database connections per context rather than per thread: a test
    # that ran while it did left its connection open past pytest-django's close, and the test
    # database could not be dropped. So one Playwright per module: every other test runs with
    # no loop, its connection is the one pytest-django closes, and Django's check is back on.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    """A fresh page; the test fails if anything on it breaks the Content-Security-Policy.

    Chromium reports each refused inline script, handler, style sheet or foreign font as a
    console error ("Refused to ... because it violates the following Content Security Policy
    directive"): the page a user sees would be missing that piece.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    violations = []
    page.on(
        "console",
        lambda message: violations.append(f"{page.url}: {message.text}")
        if message.type == "error" and "Content Security Policy" in message.text
        else None,
    )
    yield page
    context.close()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture
def screenshot_dir():
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR
