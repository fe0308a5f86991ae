"""Tablets back online at the same moment (``services/engine/offline.py``): batches sent for one
card at once credit each key exactly once, keep the ledger clean, and hold the cooldown and the
daily cap of the day the stamps were given.

Runs on SQLite and PostgreSQL, each thread with its own connection (``run_together``), through
``sync_batch``, the call the sync route makes.
"""
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from loyalty.extensions import db
from loyalty.models import AuditEntry, LoyaltyCard, LoyaltyTransaction, Merchant, TransactionType
from loyalty.services.audit import Actor
from loyalty.services.engine import offline
from loyalty.services.engine.ledger import ledger_drift
from tests import factories

pytestmark = pytest.mark.concurrency
CREDITS = (TransactionType.STAMP_EARNED, TransactionType.POINTS_EARNED)


def kept(number, kind="stamp", *, at, key=None, **fields):
    return offline.KeptAction(key=key or uuid.uuid4().hex, kind=kind, card=number, at=at,
                              **fields)


@dataclass(frozen=True)
class Answer:
    """What a tablet was told of one action, read in its own thread (its rows go with it)."""

    key: str
    accepted: bool
    replayed: bool = False
    transaction_id: int | None = None
    refusal: str | None = None


def tablets(merchant):
    """``send(actions)``: one tablet of the merchant's first store sending its batch, as the
    sync route does. Only ids cross into the threads (not this session's objects)."""
    merchant_id, store_id = merchant.merchant.id, merchant.stores[0].id
    user_id = merchant.staff.id

    def send(actions):
        batch = offline.sync_batch(db.session.get(Merchant, merchant_id), store_id, actions,
                                   user_id=user_id,
                                   actor=Actor(user_id=user_id, merchant_id=merchant_id))
        return [Answer(o.action.key, True, o.result.replayed, o.result.transaction.id)
                if o.accepted else Answer(o.action.key, False, refusal=str(o.refusal))
                for o in batch.outcomes]

    return send


def _assert_ledger_clean():
    assert ledger_drift() == []
    assert db.session.scalar(select(func.count(LoyaltyCard.id)).where(
        (LoyaltyCard.points_balance < 0) | (LoyaltyCard.stamp_count < 0))) == 0


def _rows_per_key():
    return dict(db.session.execute(
        select(LoyaltyTransaction.idempotency_key, func.count(LoyaltyTransaction.id))
        .where(LoyaltyTransaction.transaction_type.in_(CREDITS))
        .group_by(LoyaltyTransaction.idempotency_key)).all())


def _outcomes(outcomes):
    """Every action's outcome, from every tablet."""
    assert outcomes.errors() == []
    assert outcomes.count("ok") == len(outcomes)  # no PIN, no refusal of the batch itself
    return [outcome for _kind, answers in outcomes for outcome in answers]


def _card(card_id):
    return db.session.get(LoyaltyCard, card_id)


def test_one_batch_sent_by_8_tablets_at_once_credits_each_action_once(
        merchant, run_together, frozen_clock):
    """Guard: the ledger's unique key per merchant, and the replay looked for when the card's
    lock is had (the second sender waits, then gets the first answer, not a refusal). Checked
    by answering no replay there (``actions._replay``): the other tablets got IntegrityErrors,
    on SQLite and PostgreSQL."""
    factories.hybrid_program(merchant.merchant)  # no cooldown, 50 stamps a day
    card = factories.card(merchant.merchant)
    card_id, number, token = card.id, card.card_number, card.qr_token
    at = frozen_clock.now - timedelta(minutes=30)
    batch = [kept(number, at=at, quantity=2),
             kept(token, "earn", at=at + timedelta(minutes=1), amount_cents=1250),
             kept(number, at=at + timedelta(minutes=2))]
    send = tablets(merchant)

    outcomes = _outcomes(run_together(8, lambda i: send(batch)))

    assert all(outcome.accepted for outcome in outcomes), [o.refusal for o in outcomes]
    first_answers = Counter(o.key for o in outcomes if not o.replayed)
    assert first_answers == Counter({action.key: 1 for action in batch})
    for action in batch:  # every tablet reads the one row each key wrote
        assert len({o.transaction_id for o in outcomes if o.key == action.key}) == 1
    assert _rows_per_key() == {action.key: 1 for action in batch}
    db.session.expire_all()
    assert (_card(card_id).stamp_count, _card(card_id).points_balance) == (3, 125)
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action.like("offline.%"))) == 3
    _assert_ledger_clean()


def test_different_batches_with_shared_keys_on_one_card_at_once_credit_each_key_once(
        merchant, run_together, frozen_clock):
    """Six tablets, each with its own stamp and two that all of them carry (in another order):
    8 keys, 7 stamps and 99 points, whatever order the card's lock lets them in. Checked by
    reading the card without FOR UPDATE on PostgreSQL: stamps were lost (2 of 7)."""
    factories.hybrid_program(merchant.merchant)
    card = factories.card(merchant.merchant)
    card_id, number = card.id, card.card_number
    at = frozen_clock.now - timedelta(hours=2)
    shared = [kept(number, at=at), kept(number, "earn", at=at, amount_cents=990)]
    own = [kept(number, at=at + timedelta(minutes=i + 1)) for i in range(6)]
    batches = [[shared[i % 2], own[i], shared[(i + 1) % 2]] for i in range(6)]
    send = tablets(merchant)

    outcomes = _outcomes(run_together(6, lambda i: send(batches[i])))

    assert all(outcome.accepted for outcome in outcomes), [o.refusal for o in outcomes]
    assert _rows_per_key() == {action.key: 1 for action in shared + own}
    db.session.expire_all()
    assert (_card(card_id).stamp_count, _card(card_id).points_balance) == (7, 99)
    _assert_ledger_clean()


def test_the_daily_cap_holds_when_tablets_send_that_days_stamps_at_once(
        merchant, run_together, frozen_clock):
    """Cap 3 a day: four tablets, each with 3 stamps given that morning at times of its own
    (20 minutes apart, clear of the 15-minute cooldown): 3 stamps in all, the others refused
    with the cap of that day. Guard: the card's lock, under which the day's stamps are
    counted. Checked by reading the card without FOR UPDATE on PostgreSQL: 12 stamps went in."""
    factories.stamp_program(merchant.merchant, cooldown_minutes=15, max_stamps_per_day=3)
    card = factories.card(merchant.merchant)
    card_id, number = card.id, card.card_number
    morning = frozen_clock.now - timedelta(hours=5)  # 07:00 in Luxembourg, the same day
    batches = [[kept(number, at=morning + timedelta(minutes=20 * (3 * tablet + n)))
                for n in range(3)] for tablet in range(4)]
    send = tablets(merchant)

    outcomes = _outcomes(run_together(4, lambda i: send(batches[i])))

    accepted = [o for o in outcomes if o.accepted]
    assert len(accepted) == 3
    assert all(o.refusal.startswith(
        "This card had reached its daily limit of 3 stamps that day: the stamps from ")
        for o in outcomes if not o.accepted)
    assert sum(_rows_per_key().values()) == 3
    db.session.expire_all()
    assert _card(card_id).stamp_count == 3
    _assert_ledger_clean()


def test_the_daily_cap_holds_for_several_stamps_at_once_from_two_tablets(
        merchant, run_together, frozen_clock):
    """Two tablets each gave the card 3 stamps in one go, an hour apart: one of them fits."""
    factories.stamp_program(merchant.merchant, cooldown_minutes=0, max_stamps_per_day=3)
    card = factories.card(merchant.merchant)
    card_id, number = card.id, card.card_number
    at = frozen_clock.now - timedelta(hours=3)
    batches = [[kept(number, at=at + timedelta(hours=i), quantity=3)] for i in range(2)]
    send = tablets(merchant)

    outcomes = _outcomes(run_together(2, lambda i: send(batches[i])))

    assert [o.accepted for o in outcomes].count(True) == 1
    db.session.expire_all()
    assert _card(card_id).stamp_count == 3
    _assert_ledger_clean()


def test_the_cooldown_holds_when_tablets_send_stamps_given_minutes_apart(
        merchant, run_together, frozen_clock):
    """Cooldown 15 minutes: six tablets stamped the card a minute apart; one stamp stands."""
    factories.stamp_program(merchant.merchant, cooldown_minutes=15, max_stamps_per_day=10)
    card = factories.card(merchant.merchant)
    card_id, number = card.id, card.card_number
    at = frozen_clock.now - timedelta(hours=1)
    send = tablets(merchant)

    outcomes = _outcomes(run_together(
        6, lambda i: send([kept(number, at=at + timedelta(minutes=i))])))

    assert [o.accepted for o in outcomes].count(True) == 1
    assert all("less than 15 minutes from this one" in o.refusal
               for o in outcomes if not o.accepted)
    db.session.expire_all()
    assert _card(card_id).stamp_count == 1
    _assert_ledger_clean()
