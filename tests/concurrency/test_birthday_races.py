"""Two mornings at once (a retried job beside a slow first run, two workers): each birthday
card gets its bonus once. The guard is the cards' row locks with the card's
``birthday_granted_at`` read again under them (PostgreSQL re-checks a locked row that changed;
SQLite's write transactions take turns), and the ledger's unique idempotency key behind it."""
from datetime import UTC, datetime

from sqlalchemy import func, select

from loyalty.extensions import db
from loyalty.models import LoyaltyTransaction, TransactionType
from loyalty.services.customers.birthdays import change_birthday
from loyalty.services.delivery.birthdays import celebrate_birthdays
from loyalty.services.engine.ledger import ledger_drift
from tests import factories


def test_mornings_run_at_once_give_each_birthday_once(app, merchant, frozen_clock, run_together):
    frozen_clock.set(datetime(2026, 10, 1, 10, 0, tzinfo=UTC))
    factories.points_program(merchant.merchant, birthday_bonus_points=10)
    cards = [factories.card(merchant.merchant, f"Twin {n}") for n in range(12)]
    for card in cards:
        change_birthday(card, 3, 10)
    frozen_clock.set(datetime(2026, 10, 3, 3, 0, tzinfo=UTC))
    merchant_id = merchant.id  # read here: the threads never touch the test's session

    outcomes = run_together(6, lambda i: celebrate_birthdays(merchant_id))
    assert outcomes.errors() == [] and outcomes.count("ok") == 6
    assert sum(value for _, value in outcomes) == 12  # given once between them
    T = LoyaltyTransaction
    per_card = db.session.execute(
        select(T.card_id, func.count()).where(T.transaction_type == TransactionType.BIRTHDAY_BONUS)
        .group_by(T.card_id)).all()
    assert sorted(count for _, count in per_card) == [1] * 12
    assert ledger_drift() == []
