"""Staff PINs: required, wrong, locked, unlocked; one bcrypt check per attempt."""
import pytest
from sqlalchemy import update

from loyalty.extensions import db
from loyalty.models import StaffPin, hash_secret
from loyalty.services.engine import staff_pins
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.stamps import add_stamp
from loyalty.services.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PinLocked,
    PinRequired,
    WrongPin,
)
from loyalty.services.merchant import programs
from tests import factories


@pytest.fixture
def program(merchant):
    return factories.stamp_program(merchant.merchant, require_staff_pin=True, cooldown_minutes=0,
                                   max_stamps_per_day=100)


@pytest.fixture
def card(merchant, program):
    return factories.card(merchant.merchant)


@pytest.fixture
def tom(merchant):
    return staff_pins.create_staff_pin(merchant.merchant, merchant.stores[0], "Tom", "1234")


def _at_counter(merchant, **pin):
    return ActionContext(store_id=merchant.stores[0].id, **pin)


def test_a_required_pin_must_be_given(merchant, card, frozen_clock):
    with pytest.raises(PinRequired) as refused:
        add_stamp(card, context=_at_counter(merchant))
    assert str(refused.value.message) == "Enter your staff PIN to continue."
    assert card.stamp_count == 0


def test_the_picked_staff_member_is_recorded(merchant, card, tom, frozen_clock):
    result = add_stamp(card, context=_at_counter(merchant, pin="1234", staff_pin_id=tom.id))
    assert result.transaction.staff_pin_id == tom.id
    db.session.refresh(tom)
    assert tom.last_used_at is not None


def test_wrong_pin_says_how_many_attempts_are_left(merchant, card, tom, frozen_clock):
    with pytest.raises(WrongPin) as refused:
        add_stamp(card, context=_at_counter(merchant, pin="9999", staff_pin_id=tom.id))
    assert str(refused.value.message) == "Wrong PIN. 4 attempts left before it locks."
    assert card.stamp_count == 0


def test_a_pin_without_picking_who_is_refused_and_never_guessed(merchant, card, tom, monkeypatch, frozen_clock):
    checks = []
    monkeypatch.setattr(staff_pins, "check_secret", lambda *a: checks.append(1) or False)
    with pytest.raises(PinRequired) as refused:
        add_stamp(card, context=_at_counter(merchant, pin="1234"))
    assert str(refused.value.message) == "Tap your name, then enter your PIN."
    assert checks == []


def test_confirming_without_typing_a_pin_does_not_count_as_a_wrong_pin(merchant, card, tom, frozen_clock):
    for _ in range(6):
        with pytest.raises(PinRequired, match="Enter your staff PIN"):
            add_stamp(card, context=_at_counter(merchant, pin="", staff_pin_id=tom.id))
    db.session.refresh(tom)
    assert tom.failed_attempts == 0 and tom.locked_until is None


def test_too_many_wrong_pins_lock_even_the_right_one_until_unlocked(merchant, card, tom, frozen_clock):
    picked = {"staff_pin_id": tom.id}
    for _ in range(4):
        with pytest.raises(WrongPin):
            add_stamp(card, context=_at_counter(merchant, pin="0000", **picked))
    with pytest.raises(PinLocked) as locked:
        add_stamp(card, context=_at_counter(merchant, pin="0000", **picked))
    # 10:00 UTC + 30 minutes = 12:30 in Luxembourg (CEST) on 15 June.
    assert str(locked.value.message) == (
        "This PIN is locked until 12:30\u202fPM after too many wrong attempts. A manager or the "
        "owner can unlock it here with their password or a manager PIN."
    )
    with pytest.raises(PinLocked):
        add_stamp(card, context=_at_counter(merchant, pin="1234", **picked))
    staff_pins.unlock_staff_pin(tom)
    assert add_stamp(card, context=_at_counter(merchant, pin="1234", **picked)).card.stamp_count == 1


def test_the_lock_ends_by_itself(merchant, card, tom, frozen_clock):
    for _ in range(5):
        with pytest.raises((WrongPin, PinLocked)):
            add_stamp(card, context=_at_counter(merchant, pin="0000", staff_pin_id=tom.id))
    frozen_clock.advance(minutes=31)
    assert add_stamp(card, context=_at_counter(merchant, pin="1234", staff_pin_id=tom.id)).card.stamp_count == 1


def test_after_a_lock_ends_one_wrong_pin_does_not_lock_it_again(merchant, card, tom, frozen_clock):
    picked = {"staff_pin_id": tom.id}
    for _ in range(5):
        with pytest.raises((WrongPin, PinLocked)):
            add_stamp(card, context=_at_counter(merchant, pin="0000", **picked))
    frozen_clock.advance(minutes=31)
    with pytest.raises(WrongPin) as refused:
        add_stamp(card, context=_at_counter(merchant, pin="0000", **picked))
    assert str(refused.value.message) == "Wrong PIN. 4 attempts left before it locks."
    assert add_stamp(card, context=_at_counter(merchant, pin="1234", **picked)).card.stamp_count == 1


def test_the_guess_that_locks_says_until_when_even_if_the_pin_is_unlocked_meanwhile(
        merchant, card, tom, monkeypatch, frozen_clock):
    """A right PIN on another tablet may clear the lock while the guess that set it is
    checked: that guess still answers with the lock it set (it once failed with an
    AttributeError)."""
    picked = {"staff_pin_id": tom.id}
    for _ in range(4):
        with pytest.raises(WrongPin):
            add_stamp(card, context=_at_counter(merchant, pin="0000", **picked))
    real = staff_pins.check_secret

    def checked_while_another_tablet_clears_the_lock(*args):
        db.session.execute(update(StaffPin).where(StaffPin.id == tom.id)
                           .values(failed_attempts=0, locked_until=None))
        db.session.commit()
        return real(*args)

    monkeypatch.setattr(staff_pins, "check_secret", checked_while_another_tablet_clears_the_lock)
    with pytest.raises(PinLocked, match="locked until 12:30"):
        add_stamp(card, context=_at_counter(merchant, pin="0000", **picked))


def test_lockout_threshold_comes_from_the_merchants_settings(merchant, card, tom, frozen_clock):
    programs.update_settings(merchant.id, pin_lockout_attempts=2, pin_lockout_minutes=5)
    with pytest.raises(WrongPin, match="1 attempt left before"):
        add_stamp(card, context=_at_counter(merchant, pin="0000", staff_pin_id=tom.id))
    with pytest.raises(PinLocked, match="locked until 12:05"):
        add_stamp(card, context=_at_counter(merchant, pin="0000", staff_pin_id=tom.id))


def test_an_attempt_costs_one_bcrypt_check_whatever_the_team_size(merchant, card, tom, monkeypatch, frozen_clock):
    team = [staff_pins.create_staff_pin(merchant.merchant, merchant.stores[0], f"Staff {n}", f"55{n}0")
            for n in range(8)]
    checks = []
    real = staff_pins.check_secret
    monkeypatch.setattr(staff_pins, "check_secret", lambda *a: checks.append(1) or real(*a))
    add_stamp(card, context=_at_counter(merchant, pin="5570", staff_pin_id=team[7].id))
    assert len(checks) == 1
    with pytest.raises(WrongPin):
        add_stamp(card, context=_at_counter(merchant, pin="5571", staff_pin_id=tom.id))
    assert len(checks) == 2


def test_pins_are_digits_and_unique_per_store(merchant, tom):
    with pytest.raises(InvalidInput, match="4 to 8 digits"):
        staff_pins.create_staff_pin(merchant.merchant, merchant.stores[0], "Ann", "12a4")
    with pytest.raises(Conflict, match="already uses this PIN"):
        staff_pins.create_staff_pin(merchant.merchant, merchant.stores[0], "Ann", "1234")
    # The same PIN at another store is someone else.
    staff_pins.create_staff_pin(merchant.merchant, merchant.stores[1], "Ann", "1234")


def test_rename_reset_and_deactivate(merchant, card, tom, frozen_clock):
    staff_pins.update_staff_pin(tom, "Thomas")
    staff_pins.reset_staff_pin(tom, "4321")
    picked = {"staff_pin_id": tom.id}
    with pytest.raises(WrongPin):
        add_stamp(card, context=_at_counter(merchant, pin="1234", **picked))
    result = add_stamp(card, context=_at_counter(merchant, pin="4321", **picked))
    assert result.transaction.staff_pin.staff_name == "Thomas"
    staff_pins.deactivate_staff_pin(tom)
    with pytest.raises(NotFound, match="not set up at this store"):
        add_stamp(card, context=_at_counter(merchant, pin="4321", **picked))
    # A deactivated PIN frees its digits for someone else.
    staff_pins.create_staff_pin(merchant.merchant, merchant.stores[0], "Ann", "4321")


def test_another_merchants_pin_is_not_accepted(merchant, other_merchant, card, frozen_clock):
    spy = staff_pins.create_staff_pin(other_merchant.merchant, other_merchant.stores[0], "Spy", "7777")
    with pytest.raises(NotFound):
        add_stamp(card, context=_at_counter(merchant, pin="7777", staff_pin_id=spy.id))
    assert card.stamp_count == 0


def test_a_pin_hashed_at_an_older_cost_is_rehashed_at_its_next_right_use(app, merchant):
    tom = staff_pins.create_staff_pin(merchant.merchant, merchant.stores[0], "Tom", "1234")
    tom.pin_hash = hash_secret("1234", 5)  # as PINs were hashed before (passwords' cost)
    db.session.commit()
    staff_pins.verify_staff_pin(merchant.id, merchant.stores[0].id, "1234", staff_pin_id=tom.id)
    db.session.expire_all()
    rehashed = db.session.get(StaffPin, tom.id).pin_hash
    assert rehashed.startswith(f"$2b${app.config['PIN_BCRYPT_ROUNDS']:02d}$")
    assert staff_pins.verify_staff_pin(merchant.id, merchant.stores[0].id, "1234",
                                       staff_pin_id=tom.id).id == tom.id
