"""Fraud alert rules (issue #28): each fires at its threshold and not below, for its merchant
and store, not when switched off, once per window; the checks ride the outbox after the action
(run here by the drain, as the schedule does every few seconds)."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from loyalty.extensions import db
from loyalty.models import (
    AuditEntry,
    FraudAlert,
    FraudRuleSetting,
    OutboxMessage,
)
from loyalty.services import events, outbox
from loyalty.services.audit import Actor
from loyalty.services.customers import my_data
from loyalty.services.engine import adjustments, points, staff_pins, stamps, voids
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.errors import InvalidInput, PinLocked, WrongPin
from loyalty.services.merchant import fraud_checks, fraud_rules
from tests import factories

#: Monday 15 June 2026, 12:00 in Luxembourg (UTC+2).
NOON = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock_at(frozen_clock):
    frozen_clock.set(NOON)
    return frozen_clock


@pytest.fixture
def stamp_shop(merchant, clock_at):
    factories.stamp_program(merchant.merchant, cooldown_minutes=0, max_stamps_per_day=100,
                            stamps_target=2)
    return merchant


@pytest.fixture
def points_shop(merchant, clock_at):
    factories.points_program(merchant.merchant)
    return merchant


def pins(team, *names, store=0):
    return [staff_pins.create_staff_pin(team.merchant, team.stores[store], name, f"{n}{n}{n}{n}")
            for n, name in enumerate(names, start=1)]


def by(team, pin=None, store=0, **extra):
    """What a tablet sends: the store, its signed-in account, the staff member's PIN."""
    number = None
    if pin is not None:
        number = next(f"{n}{n}{n}{n}" for n in range(1, 10)
                      if staff_pins.pin_lookup(pin.store_id, f"{n}{n}{n}{n}") == pin.pin_lookup)
    return ActionContext(store_id=team.stores[store].id, user_id=team.staff.id,
                         staff_pin_id=pin.id if pin else None, pin=number, **extra)


def setting(team, rule, threshold=None, enabled=True):
    rule_default = fraud_rules.RULES[rule].default
    fraud_rules.update_settings(team.merchant.id, {rule: (enabled, threshold or rule_default)})


def alerts(team, rule):
    outbox.drain()
    assert db.session.scalars(select(OutboxMessage.last_error).where(
        OutboxMessage.kind.like("fraud%"), OutboxMessage.failed_at.is_not(None))).all() == []
    return db.session.scalars(select(FraudAlert).where(
        FraudAlert.merchant_id == team.merchant.id, FraudAlert.rule == rule)
        .order_by(FraudAlert.id)).all()


def test_staff_hour_fires_at_its_threshold_once_per_hour_and_per_person(stamp_shop, clock_at):
    setting(stamp_shop, "staff_hour", 3)
    anna, ben = pins(stamp_shop, "Anna", "Ben")
    first, second = factories.card(stamp_shop.merchant), factories.card(stamp_shop.merchant)
    stamps.add_stamp(first, context=by(stamp_shop, anna))
    stamps.add_stamp(second, context=by(stamp_shop, anna))
    stamps.add_stamp(second, context=by(stamp_shop, ben))  # someone else's: not Anna's count
    assert alerts(stamp_shop, "staff_hour") == []
    clock_at.advance(minutes=20)
    stamps.add_stamp(first, context=by(stamp_shop, anna))
    [alert] = alerts(stamp_shop, "staff_hour")
    assert (alert.staff_pin_id, alert.store_id, alert.observed, alert.threshold) == (
        anna.id, stamp_shop.stores[0].id, 3, 3)
    assert alert.card_ids == sorted([first.id, second.id])
    assert len(alert.transaction_ids) == 3
    assert alert.dedupe_key == f"staff_hour:pin:{anna.id}:2026-06-15T10"
    stamps.add_stamp(first, context=by(stamp_shop, anna))  # the same hour: no second alert
    assert len(alerts(stamp_shop, "staff_hour")) == 1
    clock_at.advance(hours=1)  # a new hour starts counting afresh
    stamps.add_stamp(first, context=by(stamp_shop, anna))
    assert len(alerts(stamp_shop, "staff_hour")) == 1


def test_staff_hour_counts_stamps_given_and_purchases_not_ledger_rows(merchant, clock_at):
    factories.hybrid_program(merchant.merchant, cooldown_minutes=0, max_stamps_per_day=100,
                             stamps_target=50)
    setting(merchant, "staff_hour", 12)
    [anna] = pins(merchant, "Anna")
    card = factories.card(merchant.merchant)
    stamps.add_stamp(card, context=by(merchant, anna), quantity=10)  # one row, ten stamps
    points.earn_points(card, 50_000, context=by(merchant, anna))  # one purchase, many points
    assert alerts(merchant, "staff_hour") == []  # 11
    points.earn_points(card, 1_000, context=by(merchant, anna))
    [alert] = alerts(merchant, "staff_hour")
    assert (alert.observed, alert.threshold, len(alert.transaction_ids)) == (12, 12, 3)


def test_tablet_hour_counts_the_signed_in_account_and_stays_quiet_when_off(stamp_shop):
    setting(stamp_shop, "tablet_hour", 2, enabled=False)
    card = factories.card(stamp_shop.merchant)
    stamps.add_stamp(card, context=by(stamp_shop))
    stamps.add_stamp(card, context=by(stamp_shop))
    assert alerts(stamp_shop, "tablet_hour") == []
    setting(stamp_shop, "tablet_hour", 3)
    stamps.add_stamp(card, context=by(stamp_shop))
    [alert] = alerts(stamp_shop, "tablet_hour")
    assert (alert.user_id, alert.staff_pin_id, alert.observed) == (stamp_shop.staff.id, None, 3)


def test_card_day_counts_one_cards_actions_across_stores_in_the_local_day(stamp_shop, clock_at):
    setting(stamp_shop, "card_day", 3)
    card = factories.card(stamp_shop.merchant)
    clock_at.set(datetime(2026, 6, 14, 21, 30, tzinfo=UTC))  # 23:30 on Sunday in Luxembourg
    stamps.add_stamp(card, context=by(stamp_shop))
    clock_at.set(NOON)
    stamps.add_stamp(card, context=by(stamp_shop))
    stamps.add_stamp(card, context=by(stamp_shop, store=1))
    assert alerts(stamp_shop, "card_day") == []
    stamps.add_stamp(card, context=by(stamp_shop, store=1))
    [alert] = alerts(stamp_shop, "card_day")
    assert (alert.card_ids, alert.observed, alert.store_id) == (
        [card.id], 3, stamp_shop.stores[1].id)
    assert alert.dedupe_key == f"card_day:card:{card.id}:2026-06-15"
    stamps.add_stamp(card, context=by(stamp_shop))
    assert len(alerts(stamp_shop, "card_day")) == 1


def test_void_share_needs_ten_actions_and_the_share(points_shop):
    setting(points_shop, "void_share", 20)
    [anna] = pins(points_shop, "Anna")
    card = factories.card(points_shop.merchant)
    earned = [points.earn_points(card, 1000, context=by(points_shop, anna)).transaction.id
              for _ in range(8)]
    voids.void_points(card, earned[0], context=by(points_shop, anna))
    assert alerts(points_shop, "void_share") == []  # 1 of 9: too few actions, too small
    voids.void_points(card, earned[1], context=by(points_shop, anna))
    [alert] = alerts(points_shop, "void_share")  # 2 of 10 = 20 %
    assert (alert.observed, alert.threshold, alert.staff_pin_id) == (20, 20, anna.id)
    assert len(alert.transaction_ids) == 2


def test_big_adjustments_in_points_and_in_stamps(merchant, clock_at):
    factories.hybrid_program(merchant.merchant)
    card = factories.card(merchant.merchant)
    owner = merchant.owner
    adjustments.adjust_points(card, 199, reason="goodwill", user=owner)
    adjustments.adjust_points(card, -199, reason="typo", user=owner)
    adjustments.adjust_stamps(card, 4, reason="goodwill", user=owner)
    assert alerts(merchant, "big_adjustment") == alerts(merchant, "big_stamp_adjustment") == []
    row = adjustments.adjust_points(card, 200, reason="paper card", user=owner)
    adjustments.adjust_stamps(card, 5, reason="paper card", user=owner)
    [points_alert] = alerts(merchant, "big_adjustment")
    assert (points_alert.observed, points_alert.user_id) == (200, owner.id)
    assert points_alert.transaction_ids == [row.transaction.id]
    [stamps_alert] = alerts(merchant, "big_stamp_adjustment")
    assert stamps_alert.observed == 5


def test_a_customer_erasing_their_data_raises_no_alert(merchant, clock_at):
    factories.hybrid_program(merchant.merchant)
    card = factories.card(merchant.merchant)
    adjustments.adjust_points(card, 150, reason="paper card", user=merchant.owner)
    adjustments.adjust_stamps(card, 4, reason="paper card", user=merchant.owner)
    assert alerts(merchant, "big_adjustment") == []  # checked under the defaults (200, 5, 6)
    setting(merchant, "big_adjustment", 100)
    setting(merchant, "big_stamp_adjustment", 3)
    setting(merchant, "card_day", 3)
    my_data.erase(card)  # takes the 150 points and 4 stamps off: nobody at a counter
    assert alerts(merchant, "big_adjustment") == []
    assert alerts(merchant, "big_stamp_adjustment") == []
    assert alerts(merchant, "card_day") == []


def test_off_hours_from_the_closing_hour_to_five_in_the_morning(stamp_shop, clock_at):
    card = factories.card(stamp_shop.merchant)
    clock_at.set(datetime(2026, 6, 15, 19, 59, tzinfo=UTC))  # 21:59 in Luxembourg
    stamps.add_stamp(card, context=by(stamp_shop))
    assert alerts(stamp_shop, "off_hours") == []
    clock_at.set(datetime(2026, 6, 15, 20, 30, tzinfo=UTC))  # 22:30
    stamps.add_stamp(card, context=by(stamp_shop, store=1))
    clock_at.set(datetime(2026, 6, 15, 23, 30, tzinfo=UTC))  # 01:30, the same night
    stamps.add_stamp(card, context=by(stamp_shop, store=1))
    [alert] = alerts(stamp_shop, "off_hours")
    assert (alert.store_id, alert.observed, alert.threshold) == (stamp_shop.stores[1].id, 22, 22)
    clock_at.set(datetime(2026, 6, 16, 3, 0, tzinfo=UTC))  # 05:00: open again
    stamps.add_stamp(card, context=by(stamp_shop))
    setting(stamp_shop, "off_hours", 23)
    clock_at.set(datetime(2026, 6, 16, 20, 30, tzinfo=UTC))  # 22:30: before 23 now
    stamps.add_stamp(card, context=by(stamp_shop))
    assert len(alerts(stamp_shop, "off_hours")) == 1


def test_pin_burst_counts_wrong_pins_at_one_store_in_ten_minutes(stamp_shop, clock_at):
    setting(stamp_shop, "pin_burst", 3)
    anna, ben = pins(stamp_shop, "Anna", "Ben")
    [carl] = pins(stamp_shop, "Carl", store=1)
    merchant_id, store = stamp_shop.merchant.id, stamp_shop.stores[0]

    def wrong(pin, store_id=store.id):
        with pytest.raises(WrongPin):
            staff_pins.verify_staff_pin(merchant_id, store_id, "0000", staff_pin_id=pin.id)

    wrong(anna)
    clock_at.advance(minutes=11)  # the first is out of the window now
    wrong(anna)
    wrong(carl, stamp_shop.stores[1].id)  # another store
    clock_at.advance(minutes=2)
    wrong(ben)
    assert alerts(stamp_shop, "pin_burst") == []
    wrong(anna)
    [alert] = alerts(stamp_shop, "pin_burst")
    assert (alert.store_id, alert.observed, alert.staff_pin_id) == (store.id, 3, None)
    wrong(anna)
    assert len(alerts(stamp_shop, "pin_burst")) == 1


def test_wrong_pins_typed_while_the_pin_is_locked_still_count(stamp_shop, clock_at, app):
    attempts = app.config["DEFAULT_PIN_LOCKOUT_ATTEMPTS"]
    setting(stamp_shop, "pin_burst", attempts + 2)
    [anna] = pins(stamp_shop, "Anna")
    merchant_id, store_id = stamp_shop.merchant.id, stamp_shop.stores[0].id

    def attempt():
        staff_pins.verify_staff_pin(merchant_id, store_id, "0000", staff_pin_id=anna.id)

    for _ in range(attempts - 1):
        with pytest.raises(WrongPin):
            attempt()
    with pytest.raises(PinLocked):
        attempt()  # this one locks it
    with pytest.raises(PinLocked):
        attempt()  # refused unchecked while locked: still a wrong PIN typed
    assert alerts(stamp_shop, "pin_burst") == []
    with pytest.raises(PinLocked):
        attempt()
    [alert] = alerts(stamp_shop, "pin_burst")
    assert (alert.observed, alert.staff_pin_id) == (attempts + 2, anna.id)
    db.session.refresh(anna)
    assert anna.failed_attempts == attempts  # the lock itself is unchanged


def test_quick_reward_counts_rewards_right_after_the_same_persons_stamps(stamp_shop, clock_at):
    setting(stamp_shop, "quick_reward", 2)
    anna, ben = pins(stamp_shop, "Anna", "Ben")
    cards = [factories.card(stamp_shop.merchant) for _ in range(3)]
    for card in cards:
        stamps.add_stamp(card, context=by(stamp_shop, anna), quantity=2)
    clock_at.advance(minutes=3)
    stamps.redeem_stamp_reward(cards[0], context=by(stamp_shop, anna))
    stamps.redeem_stamp_reward(cards[1], context=by(stamp_shop, ben))  # someone else gives it
    assert alerts(stamp_shop, "quick_reward") == []
    clock_at.advance(minutes=30)
    late = factories.card(stamp_shop.merchant)
    stamps.add_stamp(late, context=by(stamp_shop, anna), quantity=2)
    clock_at.advance(minutes=11)
    stamps.redeem_stamp_reward(late, context=by(stamp_shop, anna))  # not right after
    assert alerts(stamp_shop, "quick_reward") == []
    stamps.add_stamp(cards[2], context=by(stamp_shop, anna))
    stamps.redeem_stamp_reward(cards[2], context=by(stamp_shop, anna))
    [alert] = alerts(stamp_shop, "quick_reward")
    assert (alert.staff_pin_id, alert.observed) == (anna.id, 2)
    assert alert.card_ids == sorted([cards[0].id, cards[2].id])


def test_alerts_stay_with_their_merchant(stamp_shop, other_merchant, clock_at):
    factories.stamp_program(other_merchant.merchant, cooldown_minutes=0, max_stamps_per_day=100)
    setting(stamp_shop, "tablet_hour", 2)
    mine, theirs = factories.card(stamp_shop.merchant), factories.card(other_merchant.merchant)
    stamps.add_stamp(mine, context=by(stamp_shop))
    for _ in range(3):
        stamps.add_stamp(theirs, context=by(other_merchant))  # their default is 60
    assert alerts(stamp_shop, "tablet_hour") == alerts(other_merchant, "tablet_hour") == []
    stamps.add_stamp(mine, context=by(stamp_shop))
    assert len(alerts(stamp_shop, "tablet_hour")) == 1
    assert alerts(other_merchant, "tablet_hour") == []


def test_the_check_waits_for_the_drain_and_an_api_key_is_not_checked(stamp_shop):
    card = factories.card(stamp_shop.merchant)
    stamps.add_stamp(card, context=by(stamp_shop))
    waiting = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "fraud_check")).all()
    assert [(row.payload["card_id"], row.enqueued_at, row.delivered_at) for row in waiting] == [
        (card.id, None, None)]
    outbox.drain()
    db.session.refresh(waiting[0])
    assert waiting[0].delivered_at is not None


def test_settings_merge_defaults_refuse_bad_values_and_are_audited(merchant):
    actor = Actor(user_id=merchant.owner.id, merchant_id=merchant.merchant.id)
    assert fraud_rules.settings_of(merchant.merchant.id)["card_day"].threshold == 6
    with pytest.raises(InvalidInput) as refused:
        fraud_rules.update_settings(merchant.merchant.id, {"card_day": (True, 1),
                                                           "staff_hour": (False, 30)})
    assert refused.value.details["field"] == "card_day_threshold"
    assert db.session.scalars(select(FraudRuleSetting)).all() == []  # nothing half-saved
    changed = fraud_rules.update_settings(
        merchant.merchant.id, {"card_day": (True, 9), "staff_hour": (True, 30)}, actor=actor)
    assert changed == ["card_day"]
    found = fraud_rules.settings_of(merchant.merchant.id)
    assert (found["card_day"].threshold, found["staff_hour"].enabled) == (9, True)
    [entry] = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "alert.rule")).all()
    assert entry.changes == {"threshold": [6, 9]}


def _statements_of(action):
    seen = []

    def record(conn, cursor, statement, *args):
        if not statement.upper().startswith(("PRAGMA", "BEGIN", "COMMIT", "ROLLBACK",
                                              "SAVEPOINT", "RELEASE")):
            seen.append(" ".join(statement.split()))
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return seen


def test_the_counter_pays_one_statement_for_the_checks_and_none_after_its_commit(
        stamp_shop, monkeypatch):
    [anna] = pins(stamp_shop, "Anna")
    card = factories.card(stamp_shop.merchant)
    stamps.add_stamp(card, context=by(stamp_shop, anna))  # the worker's copies are loaded
    checked = _statements_of(lambda: stamps.add_stamp(card, context=by(stamp_shop, anna)))
    monkeypatch.setitem(events.LISTENERS, "transaction", [
        listener for listener in events.LISTENERS["transaction"]
        if listener is not fraud_checks._transaction_recorded])
    unchecked = _statements_of(lambda: stamps.add_stamp(card, context=by(stamp_shop, anna)))
    assert len(checked) == len(unchecked) + 1, checked
    assert len([s for s in checked if s.startswith("INSERT INTO outbox")]) == 1
    assert "UPDATE outbox" not in " ".join(checked)  # not handed over at commit: the drain does


def test_a_failing_check_never_blocks_the_counter(stamp_shop, monkeypatch):
    def broken(*args):
        raise RuntimeError("the check broke")
    monkeypatch.setattr(fraud_checks.checks, "candidates", broken)
    card = factories.card(stamp_shop.merchant)
    assert stamps.add_stamp(card, context=by(stamp_shop)).transaction.stamps_delta == 1
    outbox.drain()
    [row] = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "fraud_check")).all()
    assert row.failed_at is not None and "the check broke" in row.last_error
    db.session.refresh(card)
    assert card.stamp_count == 1


def test_actions_kept_offline_count_when_they_happened_not_when_they_came(stamp_shop, clock_at):
    setting(stamp_shop, "tablet_hour", 3)
    card = factories.card(stamp_shop.merchant)
    clock_at.advance(minutes=10)  # 10:10 UTC: the tablet is back and sends what it kept
    for hours_ago in (2, 1):
        stamps.add_stamp(card, context=by(stamp_shop, counter_at=NOON - timedelta(hours=hours_ago)))
    stamps.add_stamp(card, context=by(stamp_shop, counter_at=NOON + timedelta(minutes=5)))
    assert alerts(stamp_shop, "tablet_hour") == []  # 3 arrived in this hour, 1 happened in it
    stamps.add_stamp(card, context=by(stamp_shop))
    assert alerts(stamp_shop, "tablet_hour") == []
    stamps.add_stamp(card, context=by(stamp_shop))
    [alert] = alerts(stamp_shop, "tablet_hour")
    assert alert.observed == 3 and alert.window_start == NOON


def test_two_owners_saving_the_same_new_rule_at_once_both_succeed(merchant):
    """The other owner's row lands between our read and our insert: ours is saved again as an
    update instead of failing on the unique constraint."""
    merchant_id, raced = merchant.merchant.id, []

    def other_owner_first(session, _context, _instances):
        if not raced:
            raced.append(True)
            session.execute(FraudRuleSetting.__table__.insert().values(
                merchant_id=merchant_id, rule="card_day", enabled=True, threshold=7))

    event.listen(db.session(), "before_flush", other_owner_first)
    try:
        assert fraud_rules.update_settings(merchant_id, {"card_day": (True, 9)}) == ["card_day"]
    finally:
        event.remove(db.session(), "before_flush", other_owner_first)
    assert raced == [True]
    assert fraud_rules.settings_of(merchant_id)["card_day"].threshold == 9
