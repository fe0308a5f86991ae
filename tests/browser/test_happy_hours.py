"""An owner schedules a happy hour on a laptop (1440x900); the counter's card panel at that
store and the customers' program page show it while it runs (issue #27)."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import Customer, HappyHour, LoyaltyCard
from tests.browser.axe import assert_accessible
from tests.browser.conftest import open_page

pytestmark = pytest.mark.browser

OWNER, STAFF, PASSWORD = "owner@kaffisbuttek.lu", "staff@kaffisbuttek.lu", "demo-password"


def _sign_in(page, email, lands_on):
    page.goto(page.base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lands_on)


@pytest.fixture
def laptop(playwright_browser, live_server, request):
    """The owner's laptop (1440x900); axe is added to its pages as a script."""
    page = open_page(playwright_browser, live_server.url, request,
                     viewport={"width": 1440, "height": 900}, locale="en-GB", bypass_csp=True)
    yield page
    page.context.close()


def test_an_owner_schedules_a_happy_hour_the_panel_and_the_program_page_show_it(
        laptop, playwright_browser, live_server, request):
    if datetime.now(ZoneInfo("Europe/Luxembourg")).strftime("%H:%M") >= "23:58":
        pytest.skip("the window 00:00-23:59 is about to end on the shop's clock")
    page = laptop
    _sign_in(page, OWNER, "**/merchant/")
    page.click("nav.side-nav >> text=Happy hours")
    page.wait_for_url("**/merchant/happy-hours")
    assert page.locator("text=No happy hour yet.").count() == 1
    assert_accessible(page, "the empty happy hours page")

    # Refused first: what was typed stays, the message is at its field.
    page.fill("#name", "Extra stamp at Gare")
    page.fill("#start_time", "22:00")
    page.fill("#end_time", "02:00")
    page.click("text=Schedule happy hour")
    page.wait_for_selector("[data-testid=error-summary]")
    assert "schedule a second happy hour from 00:00" in page.text_content("#end_time-errors")
    assert page.input_value("#name") == "Extra stamp at Gare"
    page.shot("refused")
    assert_accessible(page, "the refused form")

    page.fill("#start_time", "00:00")
    page.fill("#end_time", "23:59")
    page.select_option("#extra_stamps", "1")
    page.uncheck("#all_stores")
    page.check("input[name=store_ids] >> xpath=..//self::label[contains(., 'Gare')]/input")
    page.click("text=Schedule happy hour")
    page.wait_for_selector("[data-testid=happy-hours-running]")
    running = page.text_content("[data-testid=happy-hours-running]")
    assert "Extra stamp at Gare" in running and "+1 stamp per visit" in running
    assert "Gare" in running and "Kirchberg" not in running
    page.shot("scheduled")
    assert_accessible(page, "the happy hours page with one running")
    with live_server.app.app_context():
        hour = db.session.scalar(select(HappyHour))
        assert (hour.extra_stamps, hour.all_stores, [s.code for s in hour.stores]) == (
            1, False, ["GARE"])
        number = db.session.scalar(select(LoyaltyCard.card_number).join(
            Customer, Customer.id == LoyaltyCard.customer_id).where(
            Customer.email == "marie@example.lu"))
        db.session.remove()

    tablet = open_page(playwright_browser, live_server.url, request,
                       viewport={"width": 1280, "height": 800}, has_touch=True,
                       locale="en-GB")
    try:
        _sign_in(tablet, STAFF, "**/terminal/")
        tablet.fill("#q", number.replace("-", ""))
        tablet.press("#q", "Enter")
        tablet.wait_for_selector(".card-panel")
        badge = tablet.locator("[data-testid=happy-hour]")
        assert badge.count() == 1 and "23:59" in badge.text_content()
        assert badge.is_visible()
        box = tablet.locator(".card-panel").bounding_box()
        assert box["y"] + box["height"] <= 800 + 1, box  # the panel still fits the tablet
        tablet.screenshot(path=str(tablet_path(request, "terminal-panel")))
    finally:
        tablet.context.close()

    page.goto(page.base + "/m/kaffisbuttek/")
    section = page.locator("[data-testid=happy-hours]")
    section.wait_for()
    text = section.text_content()
    assert "Now, until 23:59" in text and "At Gare" in text
    assert text.count("+1 stamp per visit") == 1  # once, not once a day
    page.shot("program-page")


def tablet_path(request, label):
    from tests.browser.conftest import OUTPUT  # noqa: PLC0415
    return OUTPUT / f"{request.node.name}-{label}.png"
