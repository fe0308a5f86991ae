"""The liability and breakage statement on a laptop (1440x900) and printed: the demo bakery's
last 31 days, its table of balances and movements, axe finds nothing, and the print view keeps
only the statement (no menu, no buttons). Screenshots: test-output/browser/statement.png and
statement-print.png."""
from datetime import timedelta

import pytest

from loyalty import clock
from tests.browser.axe import violations
from tests.browser.conftest import OUTPUT, open_page

pytestmark = pytest.mark.browser


def test_the_statement_on_screen_and_printed(playwright_browser, live_server, request):
    page = open_page(playwright_browser, live_server.url, request,
                     viewport={"width": 1440, "height": 900}, locale="en-GB", bypass_csp=True)
    page.goto(f"{page.base}/login")
    page.fill("#email", "owner@beimbaecker.lu")
    page.fill("#password", "demo-password")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    today = clock.now().date()  # the demo's two days of history, and the month before
    page.goto(f"{page.base}/merchant/statement?from={today - timedelta(days=31)}&to={today}")
    table = page.locator("[data-testid=statement-table]")
    assert table.locator("tr[data-line=opening] th").inner_text() == "Opening balance"
    assert table.locator("tr[data-line=closing] th").inner_text() == "Closing balance"
    assert page.locator("[data-testid=statement-merchant]").inner_text() == "Boulangerie Beim Bäcker"
    assert page.get_by_role("link", name="Download CSV").is_visible()
    assert table.locator("tr[data-line=closing] td").first.inner_text() != "0"
    page.screenshot(path=str(OUTPUT / "statement.png"), full_page=True)
    assert violations(page) == []
    page.get_by_role("link", name="Statement").focus()  # reachable by keyboard from the menu
    page.emulate_media(media="print")
    assert not page.locator("nav.side-nav").is_visible()
    assert not page.get_by_role("link", name="Download CSV").is_visible()
    assert table.is_visible()
    box = table.bounding_box()
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    box = table.bounding_box()
    assert box["x"] + box["width"] <= 794, "the table fits the width of an A4 page"
    page.screenshot(path=str(OUTPUT / "statement-print.png"), full_page=True)
    assert page.console_errors == []
    page.context.close()
