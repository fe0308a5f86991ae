"""What the counter's sheets say before anything is typed: the stamp stepper stops where the
card is full, a cooldown is told before the PIN, a password unlock needs no PIN pad, and the
result banner fades for the eye but stays for a screen reader."""
from loyalty.extensions import db
from loyalty.models import LoyaltyCard
from loyalty.services import staff_pins
from tests import factories


def _stamp_card(merchant, **program):
    factories.stamp_program(merchant.merchant, **program)
    return factories.card(merchant.merchant, "Ida Stamp", email="ida@example.com")


def test_the_stamp_stepper_stops_where_the_card_is_full(terminal, merchant, frozen_clock):
    card = _stamp_card(merchant, stamps_target=6, cooldown_minutes=0, max_stamps_per_day=10)
    tablet = terminal.sign_in(merchant.staff)
    assert tablet.act(card.id, "stamp", quantity="4").status_code == 200
    sheet = tablet.sheet(card.id, "stamp").text
    assert 'data-max="2"' in sheet and "At most 2: that fills the card." in sheet
    assert tablet.act(card.id, "stamp", quantity="2").status_code == 200
    assert db.session.get(LoyaltyCard, card.id).stamp_count == 6  # the reward is ready
    sheet = tablet.sheet(card.id, "stamp").text  # a next card starts: the daily cap is lower
    assert 'data-max="4"' in sheet and "At most 4 today on this card." in sheet


def test_the_stamp_sheet_tells_the_cooldown_before_the_pin(terminal, merchant, frozen_clock):
    card = _stamp_card(merchant, cooldown_minutes=15, require_staff_pin=True)
    tom = staff_pins.create_staff_pin(merchant.merchant, merchant.stores[0], "Tom", "2468")
    tablet = terminal.sign_in(merchant.staff)
    assert 'data-testid="stamp-cooldown"' not in tablet.sheet(card.id, "stamp").text
    assert tablet.act(card.id, "stamp", pin="2468", staff_pin_id=tom.id).status_code == 200
    frozen_clock.advance(minutes=5)
    sheet = tablet.sheet(card.id, "stamp").text
    assert 'data-testid="stamp-cooldown"' in sheet
    assert ("This card got a stamp less than 15 minutes ago. The next stamp is possible in "
            "10 min, at 12:15") in sheet
    frozen_clock.advance(minutes=10)
    assert 'data-testid="stamp-cooldown"' not in tablet.sheet(card.id, "stamp").text
