"""Many terminals on one card at the same moment give the result of some serial order.

Runs on SQLite (the embedded default) and on PostgreSQL (CI's second run). Each docstring says
which guard the test covers and how it was checked that the test fails without it.
"""
import uuid

import pytest
from sqlalchemy import func, select

from loyalty import throttle
from loyalty.extensions import attempt_counters, db
from loyalty.models import (
    LoyaltyCard,
    LoyaltyTransaction,
    Membership,
    MerchantLoyaltySettings,
    Role,
    StaffPin,
    Store,
    TransactionType,
)
from loyalty.services.engine import staff_pins
from loyalty.services.engine.adjustments import adjust_stamps
from loyalty.services.engine.ledger import ActionContext, ledger_drift
from loyalty.services.engine.points import earn_points, expire_points, redeem_reward
from loyalty.services.engine.staff_pins import verify_staff_pin
from loyalty.services.engine.stamps import add_stamp, redeem_stamp_reward
from loyalty.services.errors import PinLocked, WrongPin
from loyalty.services.merchant import programs, team
from loyalty.services.platform import accounts
from tests import factories
from tests.conftest import AuthActions, Terminal

pytestmark = pytest.mark.concurrency


def _card(card_id):
    return db.session.get(LoyaltyCard, card_id)


def _assert_ledger_clean():
    assert ledger_drift() == []
    negative = db.session.scalar(
        select(func.count(LoyaltyCard.id)).where(
            (LoyaltyCard.points_balance < 0) | (LoyaltyCard.stamp_count < 0))
    )
    assert negative == 0


def test_32_simultaneous_redeems_succeed_exactly_as_often_as_the_balance_allows(
    merchant, run_together, frozen_clock
):
    """Guard: ``lock_card`` (SELECT ... FOR UPDATE) inside ``write_transaction`` (BEGIN IMMEDIATE
    on SQLite). Checked by removing ``.with_for_update()`` and the IMMEDIATE begin: on PostgreSQL
    far more than 10 redeems went through (lost updates, ledger drift); on SQLite the deferred
    transactions failed with "database is locked" instead of being refused for lack of points.
    """
    program = factories.points_program(merchant.merchant, rewards=[("Cake", 50)])
    card = factories.card(merchant.merchant)
    earn_points(card, 5099, context=ActionContext())  # 509 points: 10 cakes, 9 left
    reward_id, card_id = program.rewards[0].id, card.id
    at_counter = ActionContext(store_id=merchant.stores[0].id)

    outcomes = run_together(32, lambda i: redeem_reward(_card(card_id), reward_id, context=at_counter))

    assert outcomes.errors() == []
    assert outcomes.count("ok") == 509 // 50
    assert outcomes.messages() == {"Not enough points: Cake costs 50, this card has 9."}
    assert _card(card_id).points_balance == 9
    _assert_ledger_clean()


def test_20_simultaneous_earns_with_one_order_reference_credit_once(merchant, run_together, frozen_clock):
    """Guard: the unique partial index on (merchant, order_reference) for points_earned rows,
    behind the pre-check. The 20 requests go to 20 different cards, so card locks do not
    serialise them. Checked by dropping the index: on PostgreSQL several cards were credited.
    """
    factories.points_program(merchant.merchant)
    card_ids = [factories.card(merchant.merchant).id for _ in range(20)]

    outcomes = run_together(20, lambda i: earn_points(
        _card(card_ids[i]), 2500, context=ActionContext(), order_reference="ORDER-7"))

    assert outcomes.errors() == []
    assert outcomes.count("ok") == 1
    assert outcomes.messages() == {"Order ORDER-7 already earned points. Nothing was added."}
    credited = db.session.scalar(select(func.count(LoyaltyTransaction.id)).where(
        LoyaltyTransaction.transaction_type == TransactionType.POINTS_EARNED))
    assert credited == 1
    assert sum(_card(i).points_balance for i in card_ids) == 250
    _assert_ledger_clean()


def test_10_simultaneous_stamps_with_a_cooldown_give_one_stamp(merchant, run_together, frozen_clock):
    """Guard: the card lock under which the cooldown is checked. Checked by removing
    ``.with_for_update()`` (PostgreSQL) / the IMMEDIATE begin (SQLite): several stamps landed
    (PostgreSQL) or requests failed with "database is locked" (SQLite).
    """
    factories.stamp_program(merchant.merchant, cooldown_minutes=15, max_stamps_per_day=5)
    card_id = factories.card(merchant.merchant).id

    outcomes = run_together(10, lambda i: add_stamp(_card(card_id), context=ActionContext()))

    assert outcomes.errors() == []
    assert outcomes.count("ok") == 1
    assert len(outcomes.messages()) == 1
    assert "The next stamp is possible in 15 min" in outcomes.messages().pop()
    assert _card(card_id).stamp_count == 1
    _assert_ledger_clean()


def test_24_simultaneous_stamp_rewards_are_given_exactly_as_often_as_the_stamps_allow(
    merchant, run_together, frozen_clock
):
    """Guard: the card lock under which the stamps are counted before the reward takes them.
    Checked by removing ``.with_for_update()`` from ``ledger._lock_statement`` on PostgreSQL:
    all 24 rewards were given from 13 stamps (lost updates).
    """
    factories.stamp_program(merchant.merchant, stamps_target=3)
    card = factories.card(merchant.merchant)
    adjust_stamps(card, 13, reason="Paper card brought in", user=merchant.owner)  # 4 rewards
    card_id = card.id
    at_counter = ActionContext(store_id=merchant.stores[0].id)

    outcomes = run_together(24, lambda i: redeem_stamp_reward(_card(card_id), context=at_counter))

    assert outcomes.errors() == []
    assert outcomes.count("ok") == 13 // 3
    assert outcomes.messages() == {"Not enough stamps yet: 1 of 3."}
    card = _card(card_id)
    assert (card.stamp_count, card.rewards_redeemed_total) == (1, 4)
    assert db.session.scalar(select(func.count(LoyaltyTransaction.id)).where(
        LoyaltyTransaction.card_id == card_id,
        LoyaltyTransaction.transaction_type == TransactionType.STAMP_REDEEMED)) == 4
    _assert_ledger_clean()


def test_50_simultaneous_wrong_pins_lock_the_pin(merchant, run_together, frozen_clock, monkeypatch):
    """Guard: a wrong attempt is counted under the PIN's row lock (``SELECT ... FOR UPDATE``)
    before it is checked, and the one that reaches the threshold sets ``locked_until``. Every
    counted failure gets its own count back, so exactly threshold - 1 guesses hear "N attempts
    left" (4, 3, 2, 1) and all others are refused as locked. Checked by removing
    ``.with_for_update()``: on PostgreSQL counts were lost and all 50 guesses were checked.
    """
    factories.stamp_program(merchant.merchant, require_staff_pin=True)
    store = merchant.stores[0]
    pin_id = staff_pins.create_staff_pin(merchant.merchant, store, "Tom", "2468").id
    merchant_id, store_id = merchant.id, store.id
    checks = []
    real_check = staff_pins.check_secret
    monkeypatch.setattr(staff_pins, "check_secret",
                        lambda *args: checks.append(1) or real_check(*args))

    outcomes = run_together(50, lambda i: verify_staff_pin(
        merchant_id, store_id, f"{1000 + i}", staff_pin_id=pin_id))

    # Counted before checked: only the guesses within the threshold cost a bcrypt check.
    assert len(checks) == 5

    assert outcomes.errors() == []
    assert outcomes.count("refused") == 50
    attempts_left = sorted(
        value.details["attempts_left"] for _, value in outcomes if isinstance(value, WrongPin)
    )
    assert attempts_left == [1, 2, 3, 4]
    assert all(isinstance(value, (WrongPin, PinLocked)) for _, value in outcomes)
    pin = db.session.get(StaffPin, pin_id)
    assert pin.failed_attempts >= 5
    assert pin.locked_until is not None and pin.locked_until > frozen_clock.now
    with pytest.raises(PinLocked):
        verify_staff_pin(merchant_id, store_id, "2468", staff_pin_id=pin_id)


def test_8_simultaneous_actions_with_the_right_pin_all_go_through(
    app, merchant, run_together, monkeypatch
):
    """Guard: a PIN the keyed lookup knows for the right one is not counted as an attempt,
    and the lock is decided on wrong attempts only. Eight tablets confirm with Tom's PIN at the
    same moment (two taps each of four purchases), at the production bcrypt cost so that the
    checks overlap. Checked against the previous counting (every attempt counted, the PIN
    locked when the count reached 5 before any right PIN cleared it): on PostgreSQL one to
    three of the eight answered 423 in each of three runs.
    """
    monkeypatch.setitem(app.config, "PIN_BCRYPT_ROUNDS", 10)
    factories.points_program(merchant.merchant, require_staff_pin=True)
    store = merchant.stores[0]
    card_id = factories.card(merchant.merchant).id
    pin_id = staff_pins.create_staff_pin(merchant.merchant, store, "Tom", "2468").id
    tablets = [Terminal(client, AuthActions(client)).sign_in(merchant.staff, store)
               for client in (app.test_client() for _ in range(8))]
    keys = [uuid.uuid4().hex for _ in range(4)]

    outcomes = run_together(8, lambda i: tablets[i].act(
        card_id, "earn", key=keys[i // 2], amount="10.00", pin="2468", staff_pin_id=pin_id))

    assert outcomes.errors() == []
    assert [response.status_code for _, response in outcomes] == [200] * 8
    assert all("100 points added." in response.text for _, response in outcomes)
    assert _card(card_id).points_balance == 400  # four purchases, each credited once
    pin = db.session.get(StaffPin, pin_id)
    assert (pin.failed_attempts, pin.locked_until) == (0, None)
    terminal_budget = throttle.pin_budgets("127.0.0.1")[0]
    assert attempt_counters.storage.get(
        terminal_budget.storage_key(terminal_budget.window())) == 0


def test_settings_are_created_once_when_many_requests_ask_at_once(merchant, run_together):
    """Guard: INSERT ... ON CONFLICT DO NOTHING on the unique merchant_id. Checked by replacing
    it with a plain insert after a read: the losers failed with a unique violation."""
    merchant_id = merchant.id

    def ask(i):
        settings = programs.loyalty_settings(merchant_id)
        db.session.commit()
        return settings.id

    outcomes = run_together(16, ask)
    assert outcomes.errors() == []
    assert len({value for _, value in outcomes}) == 1
    assert db.session.scalar(select(func.count(MerchantLoyaltySettings.id))) == 1


def test_two_owners_removing_each_other_at_once_leave_one_owner(merchant, run_together):
    """Guard: the merchant row is locked before the owners are counted. Checked by removing
    the lock: on PostgreSQL both removals went through and the shop had no owner."""
    second = factories.user("Second Owner")
    accounts.add_member(second, merchant.merchant, Role.MERCHANT_OWNER)
    owners = db.session.scalars(select(Membership).where(
        Membership.merchant_id == merchant.id, Membership.role == Role.MERCHANT_OWNER)).all()
    ids = [m.id for m in owners]
    outcomes = run_together(2, lambda i: team.remove(db.session.get(Membership, ids[i])))
    assert outcomes.errors() == []
    assert outcomes.count("ok") == 1 and outcomes.count("refused") == 1
    assert db.session.scalar(select(func.count(Membership.id)).where(
        Membership.merchant_id == merchant.id, Membership.role == Role.MERCHANT_OWNER)) == 1


def test_the_same_staff_member_added_eight_times_at_once_is_added_once(merchant, run_together):
    """Guard: the unique index on a store's active names. Checked by dropping it: PostgreSQL
    created eight PINs for one person."""
    store_id = merchant.stores[0].id

    def add(i):
        return staff_pins.issue_staff_pin(db.session.get(Store, store_id), "Nina")

    outcomes = run_together(8, add)
    assert outcomes.errors() == []
    assert outcomes.count("ok") == 1
    assert db.session.scalar(select(func.count(StaffPin.id)).where(
        StaffPin.store_id == store_id)) == 1


def test_expiry_racing_counter_actions_leaves_each_card_whole(merchant, run_together,
                                                              frozen_clock):
    """Guard: expiry locks its batch (``FOR UPDATE``, re-read after a wait) and counter actions
    lock the card, so each card is either expired then acted on, or acted on (active again) and
    left alone, never half of each. Checked by removing the expiry's ``.with_for_update()`` on
    PostgreSQL: cards lost the points an earn had just given them (4 runs out of 4)."""
    program = factories.points_program(merchant.merchant, rewards=[("Cake", 40)],
                                       points_expiration_days=30, welcome_bonus_points=100)
    card_ids = [factories.card(merchant.merchant, f"Quiet {n}").id for n in range(20)]
    reward_id = program.rewards[0].id
    frozen_clock.advance(days=31)
    now = frozen_clock.now

    def call(i):
        if i == 0:
            return expire_points(now)
        if i <= 10:
            return earn_points(_card(card_ids[i - 1]), 1000, context=ActionContext())
        return redeem_reward(_card(card_ids[i - 1]), reward_id, context=ActionContext())

    outcomes = run_together(21, call)

    assert outcomes.errors() == []
    assert outcomes.messages() <= {"Rewards can be redeemed from 0 points; this card has 0.",
                                   "Not enough points: Cake costs 40, this card has 0."}
    expired = set(db.session.scalars(select(LoyaltyTransaction.card_id).where(
        LoyaltyTransaction.transaction_type == TransactionType.POINTS_EXPIRED)))
    for n, card_id in enumerate(card_ids):
        card = _card(card_id)
        if n < 10:  # an earn of 100 points: after the expiry, or instead of it
            assert card.points_balance == (100 if card_id in expired else 200)
        else:  # a cake: refused after the expiry, or bought instead of it
            assert card.points_balance == (0 if card_id in expired else 60)
    assert outcomes[0] == ("ok", len(expired))  # the expiry counted what it wrote
    _assert_ledger_clean()
