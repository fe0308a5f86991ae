"""API calls at the same moment: an order credits once, refunds never take back more than
the order earned nor refund more than its amount, redemptions never overspend.

Runs on SQLite and PostgreSQL, each thread with its own connection (``run_together``),
through the same service calls the API views make.
"""
import json

import pytest
from sqlalchemy import func, select

from loyalty.extensions import db
from loyalty.models import ApiOrder, LoyaltyCard, LoyaltyTransaction, TransactionType
from loyalty.services.engine.ledger import ActionContext, already_voided, ledger_drift
from loyalty.services.engine.points import earn_points
from loyalty.services.integrations import api_keys, card_actions, orders, refunds
from loyalty.services.integrations.orders import Answer
from tests import factories

pytestmark = pytest.mark.concurrency


def _caller(merchant):
    _row, key = api_keys.create_key(merchant.id, name="Till 1", scopes=tuple(api_keys.SCOPES))
    return api_keys.authenticate(key)


def _assert_ledger_clean():
    assert ledger_drift() == []
    assert db.session.scalar(select(func.count(LoyaltyCard.id)).where(
        (LoyaltyCard.points_balance < 0) | (LoyaltyCard.stamp_count < 0))) == 0


def _earned_rows():
    return db.session.scalar(select(func.count(LoyaltyTransaction.id)).where(
        LoyaltyTransaction.transaction_type == TransactionType.POINTS_EARNED))


def test_20_simultaneous_purchases_with_one_order_reference_on_one_card_credit_once(
        merchant, run_together, frozen_clock):
    """Guard: the card lock, under which the order's claim is looked for before the engine
    runs; every other request gets the first answer (not a refusal). Checked by dropping the
    ``order_for`` check under the lock: the others got the engine's "already earned" 409."""
    factories.points_program(merchant.merchant)
    card = factories.card(merchant.merchant)
    caller, number = _caller(merchant.merchant), card.card_number

    outcomes = run_together(20, lambda i: orders.purchase(
        caller, number, order_reference="WEB-1", amount="25.00", currency="EUR"))

    assert outcomes.errors() == []
    assert outcomes.count("ok") == 20
    answers = [value for kind, value in outcomes if kind == "ok"]
    assert sum(1 for answer in answers if not answer.replayed) == 1
    assert len({answer.body for answer in answers}) == 1
    assert json.loads(answers[0].body)["points_earned"] == 250
    assert _earned_rows() == 1
    assert db.session.get(LoyaltyCard, card.id).points_balance == 250
    _assert_ledger_clean()


def test_20_simultaneous_purchases_with_one_order_reference_on_20_cards_credit_once(
        merchant, run_together, frozen_clock):
    """Guard: the unique (merchant, reference) index of ``api_orders`` (and of points rows):
    20 cards mean 20 locks that do not serialise. Checked by dropping the ``api_orders``
    index on PostgreSQL with a stamp-only program: several cards got the visit's stamp."""
    factories.stamp_program(merchant.merchant, cooldown_minutes=0, max_stamps_per_day=50)
    numbers = [factories.card(merchant.merchant).card_number for _ in range(20)]
    caller = _caller(merchant.merchant)

    outcomes = run_together(20, lambda i: orders.purchase(
        caller, numbers[i], order_reference="SHOP-9", amount="4.00", currency="EUR"))

    assert outcomes.errors() == []
    assert outcomes.count("ok") == 1
    assert outcomes.messages() == {
        "Order SHOP-9 was already credited to another card. Nothing was added."}
    assert db.session.scalar(select(func.count(ApiOrder.id))) == 1
    assert db.session.scalar(select(func.sum(LoyaltyCard.stamp_count))) == 1
    _assert_ledger_clean()


def test_20_simultaneous_refunds_of_one_order_never_take_back_more_than_it_earned(
        merchant, run_together, frozen_clock):
    """Guard: the card lock under which a refund sums what the order's refunds already
    refunded and claimed. Checked by locking nothing (``lock_card`` without FOR UPDATE) on
    PostgreSQL: the order was refunded past its amount and more points were taken than it
    earned."""
    factories.points_program(merchant.merchant)
    card = factories.card(merchant.merchant)
    caller = _caller(merchant.merchant)
    orders.purchase(caller, card.card_number, order_reference="R-20", amount="12.50",
                    currency="EUR")  # 125 points
    earn_points(card, 1000, context=ActionContext())  # 100 more, from another purchase
    earned = db.session.scalar(select(ApiOrder.points_transaction_id))

    # 20 refunds of 1.00: only 12 fit (12.00 of 12.50), then 0.50 is left.
    outcomes = run_together(20, lambda i: refunds.refund(caller, "R-20", amount="1.00"))

    assert outcomes.errors() == []
    assert outcomes.count("ok") == 12
    assert outcomes.messages() == {"At most 0.50 of order R-20 can still be refunded."}
    assert refunds.refunded_cents(earned, "R-20") == 1200
    assert already_voided(earned) == 125 - (125 * 50 // 1250)  # the order keeps 5
    assert db.session.get(LoyaltyCard, card.id).points_balance == 100 + 5
    _assert_ledger_clean()


def test_simultaneous_refunds_after_the_points_were_spent_record_the_shortfall_once(
        merchant, run_together, frozen_clock):
    """The balance was spent down to 30 of the order's 125: 10 refunds of the whole order at
    once give one refund that takes the 30 and records 95 short; the others are refused."""
    factories.points_program(merchant.merchant, rewards=(("Cake", 95),))
    card = factories.card(merchant.merchant)
    caller = _caller(merchant.merchant)
    orders.purchase(caller, card.card_number, order_reference="R-10", amount="12.50",
                    currency="EUR")
    reward_id = json.loads(db.session.scalar(select(ApiOrder.response_body)))["card"][
        "rewards"][0]["id"]
    card_actions.redeem(caller, card.card_number, reward_id=reward_id)

    outcomes = run_together(10, lambda i: refunds.refund(caller, "R-10", amount="12.50"))

    assert outcomes.errors() == []
    assert outcomes.count("ok") == 1
    assert outcomes.messages() == {"Order R-10 was already refunded in full."}
    answer = json.loads(next(value for kind, value in outcomes if kind == "ok").body)
    assert (answer["points_taken"], answer["points_shortfall"]) == (30, 95)
    _assert_ledger_clean()


def test_24_simultaneous_redemptions_through_the_api_never_overspend(merchant, run_together,
                                                                      frozen_clock):
    """Guard: the card lock of ``redeem_reward``, with the key as the actor."""
    factories.points_program(merchant.merchant, rewards=(("Cake", 50),))
    card = factories.card(merchant.merchant)
    caller = _caller(merchant.merchant)
    orders.purchase(caller, card.card_number, order_reference="B-1", amount="50.99",
                    currency="EUR")  # 509 points: 10 cakes, 9 left
    reward_id = json.loads(db.session.scalar(select(ApiOrder.response_body)))["card"][
        "rewards"][0]["id"]

    number = card.card_number  # read here: the threads must not touch this session's objects
    outcomes = run_together(24, lambda i: card_actions.redeem(caller, number,
                                                              reward_id=reward_id))

    assert outcomes.errors() == []
    assert outcomes.count("ok") == 10
    assert outcomes.messages() == {"Not enough points: Cake costs 50, this card has 9."}
    assert db.session.get(LoyaltyCard, card.id).points_balance == 9
    _assert_ledger_clean()


def test_a_purchase_and_its_refund_racing_leave_a_clean_ledger(merchant, run_together,
                                                              frozen_clock):
    """A refund sent before its purchase has committed is a 404 or a refund of the credited
    order, never a refund of nothing that later lets the order earn in full."""
    factories.points_program(merchant.merchant)
    card = factories.card(merchant.merchant)
    caller, number = _caller(merchant.merchant), card.card_number

    def either(i):
        if i % 2 == 0:
            return orders.purchase(caller, number, order_reference="RACE",
                                   amount="10.00", currency="EUR")
        return refunds.refund(caller, "RACE", amount="1.00")

    outcomes = run_together(10, either)

    assert outcomes.errors() == []
    assert all(isinstance(value, Answer) for kind, value in outcomes if kind == "ok")
    assert _earned_rows() == 1
    earned = db.session.scalar(select(ApiOrder.points_transaction_id))
    refunded = refunds.refunded_cents(earned, "RACE")
    assert already_voided(earned) == 100 - 100 * (1000 - refunded) // 1000
    _assert_ledger_clean()
