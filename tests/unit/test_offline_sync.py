"""What a tablet kept without connection, sent later (``services/engine/offline.py``): each
action once, judged at the time it happened, one PIN per batch, the tablet's caps."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import AuditEntry, LoyaltyCard, LoyaltyTransaction, TransactionType
from loyalty.services.audit import Actor
from loyalty.services.engine import offline, staff_pins
from loyalty.services.engine.cards import deactivate_card
from loyalty.services.engine.ledger import ledger_drift
from loyalty.services.engine.stamps import add_stamp
from loyalty.services.errors import PinRequired, WrongPin
from loyalty.services.merchant import programs
from tests import factories


def kept(card, kind="stamp", at=None, **fields):
    return offline.KeptAction(key=fields.pop("key", uuid.uuid4().hex), kind=kind,
                              card=card.card_number, at=at, **fields)


def send(merchant, actions, **pin):
    owner = merchant.owner
    actor = Actor(user_id=owner.id, merchant_id=merchant.merchant.id)
    return offline.sync_batch(merchant.merchant, merchant.stores[0].id, actions,
                              user_id=owner.id, actor=actor, **pin)


def rows(card, kind=TransactionType.STAMP_EARNED):
    return db.session.scalars(select(LoyaltyTransaction).where(
        LoyaltyTransaction.card_id == card.id, LoyaltyTransaction.transaction_type == kind)
        .order_by(LoyaltyTransaction.id)).all()


def balance(card):
    db.session.expire_all()
    return db.session.get(LoyaltyCard, card.id)


@pytest.fixture
def stamps(merchant):
    return factories.stamp_program(merchant.merchant, cooldown_minutes=15, max_stamps_per_day=3)


def test_a_batch_sent_three_times_credits_once_and_marks_its_rows_offline(
        merchant, stamps, frozen_clock):
    cards = [factories.card(merchant.merchant) for _ in range(3)]
    at = frozen_clock.now - timedelta(minutes=40)
    batch = [kept(cards[0], at=at), kept(cards[1], at=at, quantity=2),
             kept(cards[2], at=at + timedelta(minutes=1))]
    frozen_clock.advance(minutes=1)

    answers = [send(merchant, batch) for _ in range(3)]

    assert [o.accepted for o in answers[0].outcomes] == [True, True, True]
    assert [o.result.replayed for o in answers[2].outcomes] == [True, True, True]
    assert [balance(card).stamp_count for card in cards] == [1, 2, 1]
    row = rows(cards[1])[0]
    assert row.offline and row.counter_at == at and row.transaction_at == frozen_clock.now
    assert len(rows(cards[0])) == 1 and ledger_drift() == []
    logged = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "offline.stamp")).all()
    assert len(logged) == 3  # once each, not once per sending
    assert {entry.target_label for entry in logged} == {card.card_number for card in cards}


def test_the_cooldown_is_judged_at_the_time_the_stamp_was_given(
        merchant, stamps, counter, frozen_clock):
    card = factories.card(merchant.merchant)
    start = frozen_clock.now
    frozen_clock.advance(minutes=20)
    add_stamp(card, context=counter)  # online, at start + 20 min

    early = kept(card, at=start)                                  # 20 min before: fine
    close = kept(card, at=start + timedelta(minutes=10))          # 10 min from both: no
    frozen_clock.advance(minutes=1)  # the online stamp's cooldown still runs now
    outcomes = send(merchant, [early, close]).outcomes

    assert outcomes[0].accepted
    assert not outcomes[1].accepted
    assert "less than 15 minutes from this one" in str(outcomes[1].refusal)
    assert balance(card).stamp_count == 2
    assert balance(card).last_stamp_at == start + timedelta(minutes=20)  # the newest stays


def test_the_daily_cap_is_that_of_the_day_the_stamps_were_given(
        merchant, stamps, counter, frozen_clock):
    card = factories.card(merchant.merchant)
    yesterday = frozen_clock.now - timedelta(hours=20)
    # today (merchant's day) the card gets its 3 stamps online
    for _ in range(3):
        add_stamp(card, context=counter)
        frozen_clock.advance(minutes=16)
    outcomes = send(merchant, [kept(card, at=yesterday, quantity=3),
                               kept(card, at=yesterday + timedelta(hours=1))]).outcomes

    assert outcomes[0].accepted  # yesterday's cap was untouched
    assert "daily limit of 3 stamps that day" in str(outcomes[1].refusal)
    assert balance(card).stamp_count == 6
    assert balance(card).stamps_today == 3  # today's count is today's
    assert ledger_drift() == []


def test_a_time_in_the_future_or_older_than_a_day_is_refused(merchant, stamps, frozen_clock):
    card = factories.card(merchant.merchant)
    outcomes = send(merchant, [kept(card, at=frozen_clock.now + timedelta(minutes=10)),
                               kept(card, at=frozen_clock.now - timedelta(hours=25))]).outcomes
    assert "clock was ahead" in str(outcomes[0].refusal)
    assert "more than a day old" in str(outcomes[1].refusal)
    assert balance(card).stamp_count == 0


def test_unknown_deactivated_and_switched_off_come_back_with_their_reason(
        merchant, stamps, frozen_clock):
    card, closed = factories.card(merchant.merchant), factories.card(merchant.merchant)
    deactivate_card(closed)
    at = frozen_clock.now - timedelta(minutes=5)
    unknown = offline.KeptAction(key=uuid.uuid4().hex, kind="stamp", card="0000-0000-0001", at=at)
    by_token = offline.KeptAction(key=uuid.uuid4().hex, kind="stamp", card=card.qr_token, at=at)
    outcomes = send(merchant, [unknown, kept(closed, at=at), by_token]).outcomes

    assert "No card found" in str(outcomes[0].refusal)
    assert "deactivated" in str(outcomes[1].refusal)
    assert outcomes[2].accepted and balance(card).stamp_count == 1

    programs.update_program(stamps, offline_enabled=False)
    refused = send(merchant, [kept(card, at=at + timedelta(minutes=1))]).outcomes[0]
    assert "does not take actions kept without connection" in str(refused.refusal)


def test_the_tablet_caps_hold_on_the_server_too(merchant, frozen_clock):
    program = factories.hybrid_program(merchant.merchant, offline_max_actions=3,
                                       offline_max_points=300)  # 10 points per euro
    card = factories.card(merchant.merchant)
    at = frozen_clock.now - timedelta(minutes=5)
    outcomes = send(merchant, [kept(card, "earn", at, amount_cents=2000),   # 200 points
                               kept(card, "earn", at, amount_cents=2000),   # 400: over
                               kept(card, "earn", at, amount_cents=500),    # 250: fine
                               kept(card, "stamp", at)]).outcomes           # the 4th action
    assert [o.accepted for o in outcomes] == [True, False, True, False]
    assert "more than 300 points" in str(outcomes[1].refusal)
    assert "more than 3 actions" in str(outcomes[3].refusal)
    assert balance(card).points_balance == 250
    assert program.offline_max_actions == 3


def test_one_pin_per_batch_sends_its_holders_actions_and_a_manager_pin_sends_all(
        merchant, frozen_clock):
    factories.stamp_program(merchant.merchant, require_staff_pin=True, cooldown_minutes=0)
    store = merchant.stores[0]
    anna = staff_pins.create_staff_pin(merchant.merchant, store, "Anna", "1111")
    ben = staff_pins.create_staff_pin(merchant.merchant, store, "Ben", "2222")
    boss = staff_pins.create_staff_pin(merchant.merchant, store, "Boss", "9999")
    staff_pins.update_staff_pin(boss, "Boss", can_unlock=True)
    card = factories.card(merchant.merchant)
    at = frozen_clock.now - timedelta(minutes=5)
    annas, bens = kept(card, at=at, staff_pin_id=anna.id), kept(card, at=at, staff_pin_id=ben.id)

    with pytest.raises(PinRequired):
        send(merchant, [annas, bens])
    with pytest.raises(WrongPin):
        send(merchant, [annas, bens], staff_pin_id=anna.id, pin="2222")
    assert balance(card).stamp_count == 0

    first = send(merchant, [annas, bens], staff_pin_id=anna.id, pin="1111")
    assert [o.action.key for o in first.outcomes] == [annas.key]
    assert first.not_sent == [bens.key]
    second = send(merchant, [bens], staff_pin_id=boss.id, pin="9999")
    assert second.outcomes[0].accepted and second.not_sent == []
    assert [row.staff_pin_id for row in rows(card)] == [anna.id, ben.id]  # who gave it
