"""Headless Chromium (Debian's package, never a downloaded browser) against a live server."""
import os
import shutil
from pathlib import Path

import pytest

from loyalty.extensions import db
from loyalty.services.platform.demo import load_demo_data

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "browser"

if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium); CI installs it",
                allow_module_level=True)


@pytest.fixture(scope="session")
def playwright_browser():
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only when browsers run

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(make_app, serve):
    """The app on a free port over the test database, with the demo data (two days of history)."""
    app = make_app()
    with app.app_context():
        load_demo_data(history_days=2)
        db.session.remove()
    return serve(app)


@pytest.fixture
def tablet(playwright_browser, live_server, request):
    """A 10-inch tablet in landscape; screenshots go to test-output/browser/<test name>-<step>.png."""
    context = playwright_browser.new_context(viewport={"width": 1280, "height": 800},
                                             has_touch=True, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    steps = iter(range(1, 100))

    def shot(label):
        page.screenshot(path=str(OUTPUT / f"{request.node.name}-{next(steps):02d}-{label}.png"))

    page.shot = shot
    page.base = live_server.url
    yield page
    context.close()


def open_page(playwright_browser, base_url, request, **context):
    """A page in a new browser context (``context``: viewport, locale ...) on ``base_url``:
    ``page.shot(label)`` saves a full-page screenshot as test-output/browser/<test>-<label>.png,
    ``page.console_errors`` collects the console's errors. Close ``page.context`` after."""
    page = playwright_browser.new_context(**context).new_page()
    page.set_default_timeout(10_000)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    OUTPUT.mkdir(parents=True, exist_ok=True)

    def shot(label):
        page.screenshot(path=str(OUTPUT / f"{request.node.name}-{label}.png"), full_page=True)

    page.shot, page.base, page.console_errors = shot, base_url, errors
    return page


@pytest.fixture
def laptop(playwright_browser, live_server, request):
    """An owner's or admin's laptop (1440x900), English; see ``open_page``."""
    page = open_page(playwright_browser, live_server.url, request,
                     viewport={"width": 1440, "height": 900}, locale="en-GB")
    yield page
    page.context.close()
