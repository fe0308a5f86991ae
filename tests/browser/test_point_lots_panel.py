"""The counter's panel of a card whose points expire by earning month still fits a 1280x800
tablet: the next lot's line shows, the buttons and the redeem sheet's confirm stay on screen."""
import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import LoyaltyCard, LoyaltyProgram
from loyalty.services.merchant import programs
from tests.browser.test_terminal_flow import BAKERY_STAFF, _card_of, _open_card, _sign_in

pytestmark = pytest.mark.browser
HEIGHT = 800


def test_the_panel_shows_the_next_lot_and_still_fits(tablet, live_server):
    card_id, number = _card_of(live_server.app, "nora@example.lu")
    with live_server.app.app_context():
        card = db.session.get(LoyaltyCard, card_id)
        program = db.session.scalar(select(LoyaltyProgram).where(
            LoyaltyProgram.id == card.program_id))
        programs.update_program(program, points_expiry_rule="earning_month",
                                points_expiry_months=12)
    _sign_in(tablet, BAKERY_STAFF)
    _open_card(tablet, number)
    line = tablet.locator("[data-testid=lot-expiry]")
    assert line.is_visible() and "expire" in line.text_content()
    tablet.shot("panel-with-lot")
    for element in (line, tablet.locator("text=Earn points"), tablet.locator(".rewards li >> nth=-1")):
        box = element.bounding_box()
        assert box["y"] + box["height"] <= HEIGHT, box  # on screen without scrolling
    tablet.click(".rewards .button >> nth=0")
    tablet.wait_for_selector(".sheet button[type=submit]")
    box = tablet.locator(".sheet button[type=submit]").bounding_box()
    tablet.shot("redeem-with-lot")
    assert box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT
