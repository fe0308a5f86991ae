"""The counter flow in headless Chromium on a tablet: what staff actually tap."""
import re

import pytest
from sqlalchemy import func, select

from loyalty.extensions import db
from loyalty.models import Customer, LoyaltyCard, LoyaltyTransaction, TransactionType
from loyalty.services.merchant import programs
from tests.browser.conftest import OUTPUT

pytestmark = pytest.mark.browser

CAFE_STAFF, BAKERY_STAFF, PASSWORD = "staff@kaffisbuttek.lu", "staff@beimbaecker.lu", "demo-password"


def _sign_in(page, email):
    page.goto(page.base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/terminal/")


def _card_of(app, email):
    with app.app_context():
        card = db.session.scalar(select(LoyaltyCard).join(Customer, Customer.id == LoyaltyCard.customer_id)
                                 .where(Customer.email == email))
        return card.id, card.card_number


def _ledger_count(app, card_id, kind):
    with app.app_context():
        return db.session.scalar(select(func.count(LoyaltyTransaction.id)).where(
            LoyaltyTransaction.card_id == card_id, LoyaltyTransaction.transaction_type == kind))


def _open_card(page, number):
    page.fill("#q", number.replace("-", ""))
    page.press("#q", "Enter")  # as a keyboard-wedge scanner does
    page.wait_for_selector(".card-panel")


def _type_pin(page, pin):
    for digit in pin:
        page.click(f".pinpad .key[data-key='{digit}']")


def _stamps(page):
    return int(page.text_content("[data-testid=stamp-count]"))


def test_find_a_card_by_number_and_add_a_stamp_with_the_pin(tablet, live_server):
    card_id, number = _card_of(live_server.app, "marie@example.lu")
    _sign_in(tablet, CAFE_STAFF)
    tablet.shot("terminal")
    _open_card(tablet, number)
    before = _stamps(tablet)
    filled_before = tablet.locator(".stamp.filled").count()
    tablet.shot("card")
    tablet.click("text=Add stamp")
    tablet.wait_for_selector(".pinpad")
    tablet.click(".chip:has-text('Tom')")  # the store has a manager PIN too
    _type_pin(tablet, "1234")
    tablet.shot("pin-pad")
    tablet.click(".sheet button[type=submit]")
    tablet.wait_for_selector(".banner-success")
    assert "Stamp added." in tablet.text_content(".banner-success")
    assert _stamps(tablet) == before + 1
    assert tablet.locator(".stamp.filled").count() == min(filled_before + 1, 10)
    assert tablet.locator(".sheet").count() == 0  # the sheet closed itself
    assert tablet.url.endswith("/terminal/")  # no page reload, no navigation
    tablet.shot("stamped")


def test_wrong_pin_then_right_pin(tablet, live_server):
    card_id, number = _card_of(live_server.app, "paul@example.lu")
    _sign_in(tablet, CAFE_STAFF)
    _open_card(tablet, number)
    tablet.click("text=Add stamp")
    tablet.click(".chip:has-text('Tom')")
    _type_pin(tablet, "9999")
    tablet.click(".sheet button[type=submit]")
    tablet.wait_for_selector(".sheet .banner-error")
    assert "Wrong PIN. 4 attempts left before it locks." in tablet.text_content(".sheet .banner-error")
    tablet.shot("wrong-pin")
    tablet.click(".pinpad .key[data-key='clear']")
    _type_pin(tablet, "1234")
    tablet.click(".sheet button[type=submit]")
    tablet.wait_for_selector(".banner-success:has-text('Stamp added')")
    tablet.shot("right-pin")
    assert _ledger_count(live_server.app, card_id, TransactionType.STAMP_EARNED) >= 1


def test_a_double_tap_on_add_stamp_adds_one_stamp(tablet, live_server):
    app = live_server.app
    with app.app_context():
        programs.update_program(programs.live_program(1), require_staff_pin=False)
    card_id, number = _card_of(app, "sophie@example.lu")
    before = _ledger_count(app, card_id, TransactionType.STAMP_EARNED)
    _sign_in(tablet, CAFE_STAFF)
    _open_card(tablet, number)
    tablet.dblclick("form button:has-text('Add stamp')")
    tablet.wait_for_selector(".banner")
    tablet.wait_for_timeout(500)  # let a second request, if any, land
    tablet.shot("double-tap")
    assert _ledger_count(app, card_id, TransactionType.STAMP_EARNED) == before + 1
    assert "Stamp added." in tablet.text_content(".banner")


def test_earn_points_with_the_keypad_and_redeem_a_reward(tablet, live_server):
    card_id, number = _card_of(live_server.app, "nora@example.lu")
    _sign_in(tablet, BAKERY_STAFF)
    _open_card(tablet, number)
    balance = int(tablet.text_content("[data-testid=points-balance]"))
    tablet.click("text=Earn points")
    for key in "12.50":
        tablet.click(f".amount-entry .key[data-key='{key}']")
    assert tablet.input_value("#amount") == "12.50"
    tablet.click(".chip:has-text('Claire')")  # the store has a manager PIN too
    _type_pin(tablet, "1111")
    tablet.shot("keypad")
    tablet.click(".sheet button[type=submit]")
    tablet.wait_for_selector(".banner-success")
    assert f"125 points added. New balance: {balance + 125} points." in tablet.text_content(".banner-success")
    balance += 125
    tablet.shot("earned")

    reward = tablet.locator(".button.reward").first
    cost = int(re.search(r"(\d+)", reward.locator(".cost").text_content()).group(1))
    reward.click()
    tablet.wait_for_selector(".confirm-text")
    assert "Redeem" in tablet.text_content(".confirm-text")
    _type_pin(tablet, "1111")
    tablet.shot("confirm-reward")
    tablet.click(".sheet button[type=submit]")
    tablet.wait_for_selector(".banner-success:has-text('redeemed for')")
    assert f"New balance: {balance - cost} points." in tablet.text_content(".banner-success")
    assert int(tablet.text_content("[data-testid=points-balance]")) == balance - cost
    assert _ledger_count(live_server.app, card_id, TransactionType.POINTS_REDEEMED) >= 1
    tablet.shot("redeemed")


def test_portrait_tablet_keeps_targets_large(playwright_browser, live_server):
    context = playwright_browser.new_context(viewport={"width": 800, "height": 1280}, has_touch=True)
    page = context.new_page()
    page.base = live_server.url
    _sign_in(page, BAKERY_STAFF)
    _, number = _card_of(live_server.app, "luc@example.lu")
    _open_card(page, number)
    for button in page.locator("main button:visible").all():
        box = button.bounding_box()
        assert box["height"] >= 44, button.text_content()
    page.screenshot(path=str(OUTPUT / "portrait-card.png"))
    context.close()
