"""Stamp rules: cooldown, daily cap on the merchant's local day, redemption, voids."""
from datetime import UTC, datetime, timedelta

import pytest

from loyalty import clock
from loyalty.clock import local_time_label
from loyalty.extensions import db
from loyalty.models import LoyaltyTransaction, TransactionType, soft_delete
from loyalty.services.engine import cards
from loyalty.services.engine.ledger import ledger_drift
from loyalty.services.engine.stamps import add_stamp, redeem_stamp_reward
from loyalty.services.engine.voids import void_stamps, void_transaction
from loyalty.services.errors import Refused
from loyalty.services.merchant import programs
from tests import factories


@pytest.fixture
def program(merchant):
    return factories.stamp_program(merchant.merchant)


@pytest.fixture
def card(merchant, program):
    return factories.card(merchant.merchant, store=merchant.stores[0])


def test_a_stamp_is_written_to_the_card_and_the_ledger(card, counter, frozen_clock):
    result = add_stamp(card, context=counter)
    assert result.card.stamp_count == 1
    assert result.card.stamps_earned_total == 1
    row = result.transaction
    assert (row.transaction_type, row.stamps_delta, row.stamps_balance_after) == (
        TransactionType.STAMP_EARNED, 1, 1)
    assert row.store_id == counter.store_id and row.user_id == counter.user_id
    assert ledger_drift() == []


def test_a_live_card_whose_customer_was_deleted_on_its_own_still_takes_a_stamp(card, counter):
    """Restoring a program brings back its cards, not a customer deleted in between."""
    soft_delete(card.customer)
    db.session.commit()
    result = add_stamp(card, context=counter)
    assert result.card.stamp_count == 1
    assert ledger_drift() == []


def test_cooldown_refuses_with_the_time_left_then_allows(card, counter, frozen_clock):
    add_stamp(card, context=counter)
    frozen_clock.advance(minutes=5)
    with pytest.raises(Refused) as refused:
        add_stamp(card, context=counter)
    # 10:00 UTC is 12:00 in Luxembourg in June; the cooldown ends 15 minutes after the stamp.
    assert str(refused.value.message) == (
        "This card got a stamp less than 15 minutes ago. "
        "The next stamp is possible in 10 min, at 12:15\u202fPM."
    )
    frozen_clock.advance(minutes=10)
    assert add_stamp(card, context=counter).card.stamp_count == 2


def test_daily_cap_counts_the_merchants_local_day_not_the_utc_day(
    merchant, program, card, counter, frozen_clock
):
    programs.update_program(program, cooldown_minutes=0, max_stamps_per_day=2)
    # 23:10 UTC on 20 Nov is already 00:10 on 21 Nov in Luxembourg (CET, UTC+1).
    frozen_clock.set(datetime(2026, 11, 20, 23, 10, tzinfo=UTC))
    add_stamp(card, context=counter)
    add_stamp(card, context=counter)
    # Another UTC day, but the same Luxembourg day: the cap holds.
    frozen_clock.set(datetime(2026, 11, 21, 22, 30, tzinfo=UTC))
    with pytest.raises(Refused) as refused:
        add_stamp(card, context=counter)
    assert str(refused.value.message) == (
        "This card already got 2 stamps today, the daily limit. "
        "More stamps are possible tomorrow from 00:00."
    )
    # 23:05 UTC on 21 Nov is 00:05 on 22 Nov in Luxembourg: a new day, though UTC says 21 Nov.
    frozen_clock.set(datetime(2026, 11, 21, 23, 5, tzinfo=UTC))
    assert add_stamp(card, context=counter).card.stamp_count == 3


def test_redeeming_needs_enough_stamps_and_takes_the_target(program, card, counter, frozen_clock):
    programs.update_program(program, cooldown_minutes=0, max_stamps_per_day=50)
    for _ in range(9):
        add_stamp(card, context=counter)
    with pytest.raises(Refused) as refused:
        redeem_stamp_reward(card, context=counter)
    assert str(refused.value.message) == "Not enough stamps yet: 9 of 10."
    add_stamp(card, context=counter)
    add_stamp(card, context=counter)
    result = redeem_stamp_reward(card, context=counter)
    assert result.card.stamp_count == 1
    assert result.card.rewards_redeemed_total == 1
    assert result.transaction.reward_description == "A free coffee"
    assert ledger_drift() == []


def test_a_given_stamp_reward_can_be_undone_and_given_again(program, card, counter, frozen_clock):
    programs.update_program(program, cooldown_minutes=0, max_stamps_per_day=50, stamps_target=2)
    add_stamp(card, context=counter, quantity=2)
    given = redeem_stamp_reward(card, context=counter).transaction
    undone = void_transaction(card, given.id, context=counter)
    assert undone.transaction.stamps_delta == 2
    assert (undone.card.stamp_count, undone.card.rewards_redeemed_total) == (2, 0)
    assert undone.card.stamps_earned_total == 2  # the stamps were earned once
    with pytest.raises(Refused, match="already voided in full"):
        void_transaction(card, given.id, context=counter)
    assert redeem_stamp_reward(card, context=counter).card.rewards_redeemed_total == 1
    assert ledger_drift() == []


def test_a_stamp_can_be_voided_once(card, counter, frozen_clock):
    stamp = add_stamp(card, context=counter).transaction
    voided = void_stamps(card, stamp.id, context=counter)
    assert voided.card.stamp_count == 0
    assert voided.transaction.related_transaction_id == stamp.id
    with pytest.raises(Refused) as refused:
        void_stamps(card, stamp.id, context=counter)
    assert str(refused.value.message) == "This transaction was already voided in full."
    assert ledger_drift() == []


def test_voiding_a_stamp_already_spent_records_the_shortfall(program, card, counter, frozen_clock):
    programs.update_program(program, cooldown_minutes=0, max_stamps_per_day=50, stamps_target=2)
    first = add_stamp(card, context=counter).transaction
    add_stamp(card, context=counter)
    redeem_stamp_reward(card, context=counter)
    result = void_stamps(card, first.id, context=counter)
    assert result.card.stamp_count == 0
    assert (result.transaction.stamps_delta, result.transaction.void_shortfall) == (0, 1)


def test_deactivated_card_and_inactive_program_refuse_stamps(program, card, counter, frozen_clock):
    cards.deactivate_card(card, reason="lost")
    with pytest.raises(Refused, match="This card is deactivated"):
        add_stamp(card, context=counter)
    cards.reactivate_card(card, reason="found")
    programs.deactivate_program(program)
    with pytest.raises(Refused, match="The loyalty program is not active"):
        add_stamp(card, context=counter)
    types = [t.transaction_type for t in db.session.query(LoyaltyTransaction).order_by(LoyaltyTransaction.id)]
    assert types == [TransactionType.CARD_CREATED, TransactionType.CARD_DEACTIVATED,
                     TransactionType.CARD_REACTIVATED]


def test_a_repeated_idempotency_key_replays_the_first_stamp(card, counter, frozen_clock):
    first = add_stamp(card, context=counter, idempotency_key="tap-1")
    frozen_clock.advance(minutes=1)
    again = add_stamp(card, context=counter, idempotency_key="tap-1")
    assert again.replayed and again.transaction.id == first.transaction.id
    assert again.card.stamp_count == 1


def test_a_void_that_took_nothing_back_frees_neither_the_cap_nor_the_cooldown(
        merchant, counter, frozen_clock):
    """Stamps spent on a reward, then voided: the shortfall took nothing, the cap still holds."""
    factories.stamp_program(merchant.merchant, stamps_target=2, cooldown_minutes=0,
                            max_stamps_per_day=2)
    card = factories.card(merchant.merchant, "Shortfall Sam", store=merchant.stores[0])
    first = add_stamp(card, context=counter, quantity=2)
    redeem_stamp_reward(card, context=counter)
    void_stamps(card, first.transaction.id, context=counter)  # 0 taken back, 2 short
    with pytest.raises(Refused, match="daily limit"):
        add_stamp(card, context=counter)
    assert ledger_drift() == []


def test_times_are_written_the_way_each_language_writes_them(frozen_clock):
    moment = clock.now()
    today = {code: local_time_label(moment, "Europe/Luxembourg", code)
             for code in ("en", "fr", "de", "lb")}
    assert today["fr"] == today["de"] == today["lb"] and ":" in today["fr"]
    assert today["en"].endswith(("AM", "PM"))
    earlier = moment - timedelta(days=3)
    assert local_time_label(earlier, "Europe/Luxembourg", "de").count(".") == 2  # 21.11. 14:05
    assert "/" in local_time_label(earlier, "Europe/Luxembourg", "fr")  # 21/11 14:05
