"""The owner's alert rules in the browser, on a laptop: a refused threshold stays as typed,
a rule switched off by keyboard, saved; axe finds nothing."""
import pytest

from tests.browser.axe import violations
from tests.browser.conftest import open_page

pytestmark = pytest.mark.browser

OWNER, PASSWORD = "owner@kaffisbuttek.lu", "demo-password"


def test_the_owner_sets_the_alert_rules_by_keyboard(playwright_browser, live_server, request):
    page = open_page(playwright_browser, live_server.url, request, locale="en-GB",
                     viewport={"width": 1440, "height": 900}, bypass_csp=True)
    page.goto(f"{page.base}/login")
    page.fill("#email", OWNER)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{page.base}/merchant/")
    page.get_by_role("link", name="Alert rules").click()
    page.get_by_role("heading", name="Alert rules", level=1).wait_for()
    assert violations(page) == []
    page.shot("1-rules")

    card_day = page.get_by_label("Threshold for “Many actions on one card” (actions per day)")
    assert card_day.input_value() == "6"
    card_day.fill("1")
    page.get_by_label("Alert on: Counter action at night").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Enter a whole number from 2 to 500.").first.wait_for()
    assert card_day.input_value() == "1"
    assert not page.get_by_label("Alert on: Counter action at night").is_checked()
    assert violations(page) == []
    page.shot("2-refused")

    card_day.fill("8")
    card_day.press("Enter")
    page.get_by_text("Alert rules saved.").wait_for()
    assert card_day.input_value() == "8"
    assert not page.get_by_label("Alert on: Counter action at night").is_checked()
    assert violations(page) == []
    page.shot("3-saved")
    page.context.close()
