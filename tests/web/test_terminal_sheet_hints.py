"""What the counter's sheets say before anything is typed: the stamp stepper stops where the
card is full, a cooldown is told before the PIN, a password unlock needs no PIN pad, and the
result banner fades for the eye but stays for a screen reader."""
from loyalty.extensions import db
from loyalty.models import LoyaltyCard
from loyalty.services.engine import staff_pins
from tests import factories
from tests.conftest import AuthActions, Terminal


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


def test_the_unlock_sheet_shows_one_way_and_a_password_unlock_ignores_the_pin_pad(
        app, terminal, merchant, frozen_clock):
    card = _stamp_card(merchant, require_staff_pin=True)
    store = merchant.stores[0]
    tom = staff_pins.create_staff_pin(merchant.merchant, store, "Tom", "2468")
    lena = staff_pins.update_staff_pin(
        staff_pins.create_staff_pin(merchant.merchant, store, "Lena", "5678"), "Lena",
        can_unlock=True)
    url = f"/terminal/cards/{card.id}/unlock/{tom.id}?kind=stamp"
    staff = terminal.sign_in(merchant.staff)
    sheet = staff.client.get(url, headers=staff.HTMX).text
    assert 'value="pin" checked' in sheet  # staff fetch a manager, who types their PIN
    other_tablet = app.test_client()
    manager = Terminal(other_tablet, AuthActions(other_tablet)).sign_in(merchant.manager, store)
    sheet = manager.client.get(url, headers=manager.HTMX).text
    assert 'value="password" checked' in sheet  # their own password: no PIN pad needed
    assert '<div class="unlock-pin">' in sheet  # hidden while the password way is chosen
    done = manager.client.post(url, headers={**manager.HTMX, "X-CSRFToken": manager.token},
                               data={"way": "password", "email": merchant.manager.email,
                                     "password": factories.PASSWORD,
                                     "staff_pin_id": str(lena.id), "pin": "0000"})
    assert done.status_code == 200 and "Tom&#39;s PIN works again." in done.text
