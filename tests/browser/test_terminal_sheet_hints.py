"""What a terminal sheet says before its confirm button, on a 1280x800 tablet: a void of points
the customer spent since says what comes off the card and what is recorded as a shortfall; a
stamp sheet tells a running cooldown; a manager's unlock shows their password, no PIN pad."""
import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import LoyaltyCard, StaffPin, Store, User
from loyalty.services.engine import adjustments
from tests.browser.test_terminal_fit import _as, _confirm_is_on_screen
from tests.browser.test_terminal_flow import (
    BAKERY_STAFF,
    CAFE_STAFF,
    _card_of,
    _open_card,
    _sign_in,
    _type_pin,
)

pytestmark = pytest.mark.browser


def _spend_all_but(app, card_id, points):
    """Points leave the card elsewhere until ``points`` are left, through the ledger (the
    owner's adjustment), so the card's balance still equals its history."""
    with app.app_context():
        card = db.session.get(LoyaltyCard, card_id)
        owner = db.session.scalar(select(User).where(User.email == "owner@beimbaecker.lu"))
        adjustments.adjust_points(card, points - card.points_balance, user=owner,
                                  reason="Spent at another till")
        db.session.commit()


def test_a_void_after_spending_says_the_shortfall_before_the_confirm(tablet, live_server):
    card_id, number = _card_of(live_server.app, "nora@example.lu")
    _sign_in(tablet, BAKERY_STAFF)
    _open_card(tablet, number)
    tablet.click("text=Earn points")
    tablet.click(".amount-entry .key[data-key='5']")
    _as(tablet, "Claire", "1111")
    tablet.click(".sheet button[type=submit]")
    tablet.wait_for_selector(".card-panel > .banner-success")
    _spend_all_but(live_server.app, card_id, 20)
    _open_card(tablet, number)
    tablet.click(".history .button.danger >> nth=0")
    tablet.wait_for_selector(".sheet [data-testid=void-shortfall]")
    text = tablet.text_content("[data-testid=void-shortfall]")
    assert "The card holds only 20 now" in text and "30 recorded as a shortfall" in text
    _confirm_is_on_screen(tablet, "void-shortfall")


def test_a_result_fades_after_a_few_seconds_but_stays_for_screen_readers(tablet, live_server):
    _id, number = _card_of(live_server.app, "nora@example.lu")
    _sign_in(tablet, BAKERY_STAFF)
    _open_card(tablet, number)
    tablet.click("text=Earn points")
    tablet.click(".amount-entry .key[data-key='5']")
    _as(tablet, "Claire", "1111")
    tablet.click(".sheet button[type=submit]")
    banner = tablet.locator(".card-panel > .banner-success")
    banner.wait_for()
    tablet.shot("result")
    fades = banner.evaluate("el => el.getAnimations().map(a => [a.animationName, "
                            "a.effect.getTiming().delay])")
    assert fades == [["banner-fade", 5000]]  # read first, then it fades
    banner.evaluate("el => el.getAnimations().forEach(a => a.finish())")
    assert banner.evaluate("el => getComputedStyle(el).opacity") == "0"
    assert banner.get_attribute("role") == "status" and "50 points added." in banner.inner_text()
    tablet.emulate_media(reduced_motion="reduce")
    assert banner.evaluate("el => el.getAnimations().length") == 0
    assert banner.evaluate("el => getComputedStyle(el).opacity") == "1"  # it simply stays


def test_a_running_cooldown_is_told_on_the_stamp_sheet_before_the_pin(tablet, live_server):
    _id, number = _card_of(live_server.app, "marie@example.lu")
    _sign_in(tablet, CAFE_STAFF)
    _open_card(tablet, number)
    tablet.click("text=Add stamp")
    tablet.click(".chip:has-text('Tom')")
    _type_pin(tablet, "1234")
    tablet.click(".sheet button[type=submit]")
    tablet.wait_for_selector(".card-panel > .banner-success")
    tablet.click("text=Add stamp")
    notice = tablet.locator(".sheet [data-testid=stamp-cooldown]")
    notice.wait_for()
    assert "The next stamp is possible in 15 min" in notice.inner_text()
    _confirm_is_on_screen(tablet, "stamp-cooldown")


def test_a_managers_unlock_shows_their_password_and_no_pin_pad(tablet, live_server):
    with live_server.app.app_context():
        tom = db.session.scalar(select(StaffPin.id).join(Store, Store.id == StaffPin.store_id)
                                .where(Store.code == "KIRCH"))
    card_id, _number = _card_of(live_server.app, "marie@example.lu")
    _sign_in(tablet, "manager@kaffisbuttek.lu")
    tablet.goto(f"{tablet.base}/terminal/cards/{card_id}/unlock/{tom}?kind=stamp")
    tablet.wait_for_selector("#unlock-title")
    assert tablet.locator("#password").is_visible()
    assert not tablet.locator(".pinpad").is_visible()
    tablet.shot("unlock-by-password")
    box = tablet.locator(".sheet").bounding_box()  # a sheet as its own page (no JavaScript)
    assert box["x"] + box["width"] <= 1280  # stays inside the window
    tablet.click(".chip:has-text('Manager PIN')")
    assert tablet.locator(".pinpad").is_visible() and not tablet.locator("#password").is_visible()
    tablet.shot("unlock-by-pin")
