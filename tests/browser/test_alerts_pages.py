"""The fraud alerts pages on a laptop (1440x900), with alerts raised on the demo shop: the
list names each alert's rule, store and person; an alert links to its cards and ledger rows;
the review is made by keyboard and shown; axe finds nothing. Screenshots:
test-output/browser/alerts-list.png and alert.png."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from loyalty import clock
from loyalty.extensions import db
from loyalty.models import LoyaltyCard, LoyaltyTransaction, Merchant, StaffPin, Store, User
from tests import factories
from tests.browser.axe import violations
from tests.browser.conftest import OUTPUT, open_page

pytestmark = pytest.mark.browser

OWNER, PASSWORD, SHOP = "owner@kaffisbuttek.lu", "demo-password", "kaffisbuttek"


def demo_alerts(app):
    """Three alerts on the demo shop (one reviewed); returns the id of the first, whose cards
    have ledger rows."""
    with app.app_context():
        merchant = db.session.scalar(select(Merchant).where(Merchant.slug == SHOP))
        stores = db.session.scalars(select(Store).where(Store.merchant_id == merchant.id)
                                    .order_by(Store.id)).all()
        pin = db.session.scalar(select(StaffPin).where(StaffPin.merchant_id == merchant.id)
                                .order_by(StaffPin.id))
        cards = db.session.scalars(
            select(LoyaltyCard).where(LoyaltyCard.merchant_id == merchant.id,
                                      LoyaltyCard.id.in_(select(LoyaltyTransaction.card_id)))
            .order_by(LoyaltyCard.id).limit(3)).all()
        owner = db.session.scalar(select(User).where(User.email == OWNER))
        now = clock.now()
        first = factories.fraud_alert(merchant, store=pin.store, staff_pin=pin, cards=cards,
                                      observed=34, threshold=30,
                                      created_at=now - timedelta(hours=2))
        factories.fraud_alert(merchant, store=stores[-1], rule="card_day", cards=cards[:1],
                              user=owner, observed=7, threshold=6,
                              created_at=now - timedelta(hours=1))
        factories.fraud_alert(merchant, store=stores[0], rule="off_hours", observed=23,
                              threshold=22, reviewed=True, created_at=now - timedelta(days=1))
        alert_id = first.id
        db.session.remove()
    return alert_id


def test_the_alerts_list_and_an_alert_on_a_laptop(playwright_browser, live_server, request):
    alert_id = demo_alerts(live_server.app)
    page = open_page(playwright_browser, live_server.url, request,
                     viewport={"width": 1440, "height": 900}, locale="en-GB", bypass_csp=True)
    page.goto(f"{page.base}/login")
    page.fill("#email", OWNER)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()

    page.goto(f"{page.base}/merchant/")
    assert page.locator("[data-testid=open-alerts]").inner_text() == "2 alerts to review"
    page.shot("start")
    assert violations(page) == []
    page.get_by_role("link", name="Alerts", exact=True).click()  # in the side menu
    page.wait_for_load_state()
    rows = page.locator("[data-testid=alert-row]")
    assert rows.count() == 2  # the reviewed one is not "to review"
    assert "Many actions on one card" in rows.nth(0).inner_text()
    assert "34 / 30" in rows.nth(1).inner_text()
    assert page.locator("[data-testid=open-count]").inner_text() == "2 alerts to review"
    page.screenshot(path=str(OUTPUT / "alerts-list.png"), full_page=True)
    assert violations(page) == []

    page.select_option("#status", "all")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    assert page.locator("[data-testid=alert-row]").count() == 3

    page.goto(f"{page.base}/merchant/alerts/{alert_id}")
    assert page.locator("h1").inner_text().startswith("Many stamps or purchases by one staff member")
    assert page.locator("[data-testid=alert-cards] a").count() >= 1
    assert page.locator("[data-testid=alert-rows] tbody tr").count() >= 1
    page.screenshot(path=str(OUTPUT / "alert.png"), full_page=True)
    assert violations(page) == []

    # A ledger row's link opens the card's history on that very row.
    link = page.locator("[data-testid=alert-rows] tbody tr a").first
    target = link.get_attribute("href").split("#")[1]
    link.click()
    page.wait_for_load_state()
    assert page.locator(f"tr#{target}").count() == 1
    page.go_back()

    # The review, by keyboard: an empty note is refused and says why, then a note is kept.
    page.locator("#note").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "Write what you found or did" in page.locator(".field-errors").inner_text()
    assert violations(page) == []  # the refused form too
    page.locator("#note").fill("Asked Paula: a school group came in.")
    page.locator("#note").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    record = page.locator("[data-testid=review-record]")
    assert "Asked Paula: a school group came in." in record.inner_text()
    page.screenshot(path=str(OUTPUT / "alert-reviewed.png"), full_page=True)
    assert violations(page) == []
    # Only the refused review's answer (422), which the browser logs as a failed load.
    assert [error for error in page.console_errors if "422" not in error] == []
    page.context.close()
