"""The retention page on a laptop (1440x900) with a year of joins and visits: the chart, the
cohort heat map and the regulars who stopped coming show, and axe finds nothing. The screenshot
is test-output/browser/retention-page.png."""
from datetime import datetime, time

import pytest
from sqlalchemy import select

from loyalty import clock
from loyalty.extensions import db
from loyalty.models import LoyaltyTransaction, Merchant, Store, TransactionType
from loyalty.services.merchant.local_days import local_midnight
from loyalty.services.merchant.retention import month_starts
from tests import factories
from tests.browser.axe import violations
from tests.browser.conftest import OUTPUT, open_page

pytestmark = pytest.mark.browser


def _a_year_of_members(app):
    """Each of the last 13 months, eight members join on the 3rd; member j comes back on the
    (3 + j)th of each of the 8 - j months after, so fewer of each cohort come every month."""
    with app.app_context():
        merchant = db.session.scalar(select(Merchant).where(Merchant.slug == "kaffisbuttek"))
        store = db.session.scalar(select(Store).where(Store.merchant_id == merchant.id)
                                  .order_by(Store.id))
        starts = month_starts(merchant.timezone, clock.now())
        for index, start in enumerate(starts):
            for j in range(8):
                card = factories.card(merchant, f"Member {index}-{j}", store=store)
                card.created_at = local_midnight(merchant.timezone, start.replace(day=3))
                for after in range(min(8 - j, len(starts) - index)):
                    day = starts[index + after].replace(day=3 + j)
                    moment = datetime.combine(day, time(11), card.created_at.tzinfo)
                    if moment > clock.now():
                        continue
                    db.session.add(LoyaltyTransaction(
                        merchant_id=merchant.id, card_id=card.id, transaction_at=moment,
                        transaction_type=TransactionType.STAMP_EARNED, stamps_delta=1,
                        points_delta=0, stamps_balance_after=0, points_balance_after=0))
        db.session.commit()
        db.session.remove()


def test_the_retention_page_on_a_laptop(playwright_browser, live_server, request):
    _a_year_of_members(live_server.app)
    page = open_page(playwright_browser, live_server.url, request,
                     viewport={"width": 1440, "height": 900}, locale="en-GB", bypass_csp=True)
    page.goto(f"{page.base}/login")
    page.fill("#email", "owner@kaffisbuttek.lu")
    page.fill("#password", "demo-password")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{page.base}/merchant/retention?min_visits=3&away_days=30")
    assert page.locator("svg.bars rect").count() == 13
    assert page.locator("[data-testid=as-of]").inner_text().startswith(
        "Figures up to the end of yesterday (")
    assert page.locator("table[data-testid=cohorts] td.heat-5").count() >= 13  # every month 0
    assert page.locator("table[data-testid=regulars] tbody tr").count() > 0
    page.screenshot(path=str(OUTPUT / "retention-page.png"), full_page=True)
    assert violations(page) == []
    page.get_by_role("link", name="Retention").focus()  # reachable by keyboard from the menu
    assert page.console_errors == []
    page.context.close()
