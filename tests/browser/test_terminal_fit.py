"""Every sheet fits a 1280x800 tablet with its confirm button on screen, a result does not move
the buttons, and tapping the backdrop closes a sheet with nothing done."""
import pytest

from tests.browser.test_terminal_flow import (
    BAKERY_STAFF,
    CAFE_STAFF,
    _card_of,
    _open_card,
    _sign_in,
    _type_pin,
)

pytestmark = pytest.mark.browser
HEIGHT = 800


def _as(page, name, pin):
    """Pick the staff member (the store has a manager PIN too), then type the PIN."""
    page.click(f".chip:has-text('{name}')")
    _type_pin(page, pin)


def _confirm_is_on_screen(page, label):
    page.wait_for_selector(".sheet button[type=submit]")
    box = page.locator(".sheet button[type=submit]").bounding_box()
    page.shot(label)
    assert box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT, (label, box)


def _close(page):
    page.click("[data-close-sheet]")
    page.wait_for_selector(".sheet", state="detached")


def test_the_bakerys_sheets_fit_even_after_a_wrong_pin(tablet, live_server):
    _id, number = _card_of(live_server.app, "nora@example.lu")
    _sign_in(tablet, BAKERY_STAFF)
    _open_card(tablet, number)
    tablet.click("text=Earn points")
    _confirm_is_on_screen(tablet, "earn")
    tablet.click(".amount-entry .key[data-key='5']")
    _as(tablet, "Claire", "9999")
    tablet.click(".sheet button[type=submit]")
    tablet.wait_for_selector(".sheet .banner-error")
    _confirm_is_on_screen(tablet, "earn-wrong-pin")
    _close(tablet)
    tablet.click(".rewards .button >> nth=0")
    _confirm_is_on_screen(tablet, "redeem")
    _close(tablet)
    tablet.click(".history .button.danger >> nth=0")
    tablet.wait_for_selector(".sheet")
    assert tablet.locator(".sheet [data-keypad-for=void-amount]").count() == 1  # our keypad
    _confirm_is_on_screen(tablet, "void")


def test_the_cafes_sheets_fit_and_the_backdrop_closes_them(tablet, live_server):
    _id, number = _card_of(live_server.app, "marie@example.lu")
    _sign_in(tablet, CAFE_STAFF)
    _open_card(tablet, number)
    tablet.click("text=Add stamp")
    _confirm_is_on_screen(tablet, "stamp")
    tablet.mouse.click(5, 400)  # the dimmed backdrop beside the sheet
    tablet.wait_for_selector(".sheet", state="detached")
    assert "Stamp added" not in (tablet.text_content("#workspace") or "")


def test_a_result_does_not_move_the_buttons(tablet, live_server):
    _id, number = _card_of(live_server.app, "nora@example.lu")
    _sign_in(tablet, BAKERY_STAFF)
    _open_card(tablet, number)
    before = tablet.locator("text=Earn points").bounding_box()
    tablet.click("text=Earn points")
    for key in "12":
        tablet.click(f".amount-entry .key[data-key='{key}']")
    _as(tablet, "Claire", "1111")
    tablet.click(".sheet button[type=submit]")
    tablet.wait_for_selector(".banner-success")
    tablet.shot("result")
    assert tablet.locator("text=Earn points").bounding_box() == before


def test_a_locked_pin_is_unlocked_at_the_counter_on_a_sheet_that_fits(tablet, live_server):
    _id, number = _card_of(live_server.app, "nora@example.lu")
    _sign_in(tablet, BAKERY_STAFF)
    _open_card(tablet, number)
    tablet.click("text=Earn points")
    tablet.click(".amount-entry .key[data-key='5']")
    tablet.click(".chip:has-text('Claire')")
    for _ in range(5):
        tablet.fill("#pin", "")
        _type_pin(tablet, "9999")
        with tablet.expect_response(lambda response: response.url.endswith("/earn")):
            tablet.click(".sheet button[type=submit]")
        tablet.wait_for_selector(".sheet .banner-error")
    tablet.wait_for_selector(".sheet .banner-error:has-text('A manager or the owner can unlock it here')")
    tablet.click("[data-testid=open-unlock]")
    tablet.wait_for_selector("#unlock-title")
    _confirm_is_on_screen(tablet, "unlock")
    tablet.click(".chip:has-text('Marc')")
    _type_pin(tablet, "4321")
    tablet.click(".sheet button[type=submit]")
    tablet.wait_for_selector(".sheet .banner-success")
    assert "Claire's PIN works again." in tablet.text_content(".sheet .banner-success")
    _confirm_is_on_screen(tablet, "earn-after-unlock")
    assert tablet.input_value("#amount") == "5"  # typed before the PIN locked, still there
    _type_pin(tablet, "1111")
    tablet.click(".sheet button[type=submit]")
    tablet.wait_for_selector(".card-panel > .banner-success")
    assert "50 points added." in tablet.text_content(".card-panel > .banner-success")


def test_a_redeemed_reward_is_undone_from_the_history(tablet, live_server):
    _id, number = _card_of(live_server.app, "nora@example.lu")
    _sign_in(tablet, BAKERY_STAFF)
    _open_card(tablet, number)
    tablet.click(".rewards .button >> nth=0")
    _as(tablet, "Claire", "1111")
    tablet.click(".sheet button[type=submit]")
    tablet.wait_for_selector(".card-panel > .banner-success")
    balance = int(tablet.text_content("[data-testid=points-balance]"))
    tablet.click(".history button:has-text('Undo') >> nth=0")
    tablet.wait_for_selector(".sheet")
    assert tablet.locator(".sheet [data-keypad-for=void-amount]").count() == 0  # undone whole
    assert "The reward counts as not given." in tablet.text_content(".sheet")
    _confirm_is_on_screen(tablet, "undo")
    _as(tablet, "Claire", "1111")
    tablet.click(".sheet button[type=submit]")
    tablet.wait_for_selector(".card-panel > .banner-success:has-text('Reward undone')")
    assert int(tablet.text_content("[data-testid=points-balance]")) > balance
