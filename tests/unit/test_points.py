"""Points rules: earning, order references, catalogue redemption, voids, expiry."""
import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import LoyaltyTransaction, TransactionType
from loyalty.services.engine import points
from loyalty.services.engine.ledger import ActionContext, ledger_drift
from loyalty.services.engine.points import (
    earn_points,
    expire_points,
    redeem_reward,
)
from loyalty.services.engine.voids import void_points, void_transaction
from loyalty.services.errors import InvalidInput, NotFound, Refused
from loyalty.services.merchant import programs
from tests import factories


@pytest.fixture
def program(merchant):
    return factories.points_program(
        merchant.merchant, minimum_purchase_cents=200, minimum_redemption_points=50,
        welcome_bonus_points=25, points_expiration_days=180,
    )


@pytest.fixture
def card(merchant, program):
    return factories.card(merchant.merchant, store=merchant.stores[0])


def _reward(program, name):
    return next(r for r in program.rewards if r.name == name)


def test_enrolling_credits_the_welcome_bonus(card):
    assert card.points_balance == 25
    assert card.points_earned_total == 25
    assert ledger_drift() == []


def test_points_are_floor_of_amount_times_rate(card, counter, frozen_clock):
    result = earn_points(card, 1299, context=counter)  # 12.99 EUR x 10 points per euro
    assert result.transaction.points_delta == 129
    assert result.card.points_balance == 25 + 129
    assert result.transaction.purchase_amount_cents == 1299


def test_purchases_below_the_minimum_earn_nothing(card, counter, frozen_clock):
    with pytest.raises(Refused) as refused:
        earn_points(card, 199, context=counter)
    assert str(refused.value.message) == "Purchases below €2.00 earn no points."
    with pytest.raises(InvalidInput, match="Enter the purchase amount"):
        earn_points(card, 0, context=counter)


def test_an_order_reference_earns_once(merchant, card, counter, frozen_clock):
    earn_points(card, 1000, context=counter, order_reference="R-42")
    other = factories.card(merchant.merchant)
    for target in (card, other):
        with pytest.raises(Refused) as refused:
            earn_points(target, 1000, context=counter, order_reference=" R-42 ")
        assert str(refused.value.message) == "Order R-42 already earned points. Nothing was added."
    assert card.points_balance == 125
    assert ledger_drift() == []


def test_redeeming_needs_the_minimum_and_enough_points(program, card, counter, frozen_clock):
    croissant, cake = _reward(program, "Croissant"), _reward(program, "Cake")
    with pytest.raises(Refused) as refused:
        redeem_reward(card, croissant.id, context=counter)
    assert str(refused.value.message) == "Rewards can be redeemed from 50 points; this card has 25."
    earn_points(card, 1000, context=counter)  # 125 points
    with pytest.raises(Refused) as refused:
        redeem_reward(card, cake.id, context=counter)
    assert str(refused.value.message) == "Not enough points: Cake costs 200, this card has 125."
    result = redeem_reward(card, croissant.id, context=counter)
    assert result.card.points_balance == 75
    assert result.card.points_redeemed_total == 50
    assert result.card.rewards_redeemed_total == 1
    assert result.transaction.reward_description == "Croissant"


def test_a_redeemed_reward_can_be_undone_once_and_whole(program, card, counter, frozen_clock):
    earn_points(card, 1000, context=counter)  # 125 points
    redemption = redeem_reward(card, _reward(program, "Croissant").id, context=counter).transaction
    with pytest.raises(Refused) as refused:
        void_transaction(card, redemption.id, amount=20, context=counter)
    assert str(refused.value.message) == "A reward is undone whole: 50 come back."
    undone = void_transaction(card, redemption.id, context=counter)
    assert undone.transaction.transaction_type == "points_reward_voided"
    assert (undone.transaction.points_delta, undone.transaction.related_transaction_id) == (
        50, redemption.id)
    assert undone.card.points_balance == 125
    assert (undone.card.points_redeemed_total, undone.card.rewards_redeemed_total) == (0, 0)
    with pytest.raises(Refused, match="already voided in full"):
        void_transaction(card, redemption.id, context=counter)
    assert ledger_drift() == []


def test_a_retired_reward_cannot_be_redeemed(program, card, counter, frozen_clock):
    croissant = _reward(program, "Croissant")
    earn_points(card, 1000, context=counter)
    programs.set_reward_active(croissant, False)
    with pytest.raises(Refused, match="not available any more"):
        redeem_reward(card, croissant.id, context=counter)


def test_void_is_bounded_by_what_the_purchase_gave_minus_earlier_voids(card, counter, frozen_clock):
    purchase = earn_points(card, 1000, context=counter).transaction  # +100
    void_points(card, purchase.id, points=30, context=counter)
    with pytest.raises(Refused) as refused:
        void_points(card, purchase.id, points=71, context=counter)
    assert str(refused.value.message) == "At most 70 can still be voided for this transaction."
    result = void_points(card, purchase.id, context=counter)  # the remaining 70
    assert result.transaction.points_delta == -70
    assert result.card.points_balance == 25
    assert result.card.points_voided_total == 100
    with pytest.raises(Refused, match="already voided in full"):
        void_points(card, purchase.id, points=1, context=counter)
    assert ledger_drift() == []


def test_void_of_spent_points_takes_what_is_left_and_records_the_rest(program, card, counter, frozen_clock):
    purchase = earn_points(card, 2000, context=counter).transaction  # +200 -> 225
    redeem_reward(card, _reward(program, "Cake").id, context=counter)  # -200 -> 25
    result = void_points(card, purchase.id, context=counter)
    assert result.card.points_balance == 0
    assert (result.transaction.points_delta, result.transaction.void_shortfall) == (-25, 175)
    with pytest.raises(Refused, match="already voided in full"):
        void_points(card, purchase.id, context=counter)


def test_only_purchases_of_this_card_can_be_voided(merchant, card, counter, frozen_clock):
    other = factories.card(merchant.merchant)
    purchase = earn_points(other, 1000, context=counter).transaction
    with pytest.raises(NotFound, match="cannot be voided"):
        void_points(card, purchase.id, context=counter)


def test_voids_can_be_turned_off(merchant, card, counter, frozen_clock):
    purchase = earn_points(card, 1000, context=counter).transaction
    programs.update_settings(merchant.id, allow_voids=False)
    with pytest.raises(Refused, match="Voids are turned off"):
        void_points(card, purchase.id, context=counter)


def test_cross_location_redemption_can_be_refused(merchant, program, card, frozen_clock):
    earn_points(card, 1000, context=ActionContext(store_id=merchant.stores[0].id))
    programs.update_settings(merchant.id, allow_cross_location_redemption=False)
    elsewhere = ActionContext(store_id=merchant.stores[1].id)
    with pytest.raises(Refused, match="only be redeemed at the store that issued it"):
        redeem_reward(card, _reward(program, "Croissant").id, context=elsewhere)
    assert redeem_reward(card, _reward(program, "Croissant").id,
                         context=ActionContext(store_id=merchant.stores[0].id)).card.points_balance == 75


def test_expiry_takes_the_points_of_inactive_cards_once(merchant, card, counter, frozen_clock):
    earn_points(card, 1000, context=counter)
    busy = factories.card(merchant.merchant)
    frozen_clock.advance(days=179)
    earn_points(busy, 500, context=counter)
    frozen_clock.advance(days=2)
    assert expire_points() == 1
    assert expire_points() == 0  # a second run expires nothing more
    db.session.refresh(card)
    db.session.refresh(busy)
    assert card.points_balance == 0 and card.points_expired_total == 125
    assert busy.points_balance == 75
    assert ledger_drift() == []


def test_expiry_works_through_batches_oldest_first(merchant, monkeypatch, frozen_clock):
    factories.points_program(merchant.merchant, points_expiration_days=30,
                             welcome_bonus_points=10)
    cards = [factories.card(merchant.merchant, f"Quiet {n}") for n in range(5)]
    frozen_clock.advance(days=31)
    monkeypatch.setattr(points, "EXPIRY_BATCH", 2)
    assert expire_points() == 5
    assert expire_points() == 0
    for card in cards:
        db.session.refresh(card)
        assert (card.points_balance, card.points_expired_total) == (0, 10)
    rows = db.session.scalars(select(LoyaltyTransaction).where(
        LoyaltyTransaction.transaction_type == TransactionType.POINTS_EXPIRED)).all()
    assert sorted(row.card_id for row in rows) == sorted(card.id for card in cards)
    assert all(row.points_delta == -10 and row.points_balance_after == 0 for row in rows)
    assert ledger_drift() == []


def test_expiry_of_one_merchant_leaves_the_others(merchant, other_merchant, frozen_clock):
    for owner in (merchant, other_merchant):
        factories.points_program(owner.merchant, points_expiration_days=30,
                                 welcome_bonus_points=10)
    mine, theirs = factories.card(merchant.merchant), factories.card(other_merchant.merchant)
    frozen_clock.advance(days=31)
    assert expire_points(merchant_id=merchant.id) == 1
    db.session.refresh(mine)
    db.session.refresh(theirs)
    assert (mine.points_balance, theirs.points_balance) == (0, 10)
    assert expire_points() == 1  # the other merchant's turn


def test_welcome_bonus_and_points_need_a_points_program(merchant, counter, frozen_clock):
    factories.stamp_program(merchant.merchant)
    card = factories.card(merchant.merchant)
    assert card.points_balance == 0
    with pytest.raises(Refused, match="does not use points"):
        earn_points(card, 1000, context=counter)
