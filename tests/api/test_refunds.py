"""POST /api/v1/orders/{order_reference}/refunds: a refund takes back what its part of the
order earned, never more than the order earned, however it is split or retried."""
import pytest
from sqlalchemy import func, select

from loyalty.extensions import db
from loyalty.models import LoyaltyTransaction, TransactionType
from loyalty.services.engine.ledger import already_voided, ledger_drift
from loyalty.services.engine.points import earn_points, redeem_reward
from loyalty.services.engine.voids import void_points
from tests import factories


@pytest.fixture
def bakery(merchant):
    """10 points per euro; a croissant costs 50 points."""
    factories.points_program(merchant.merchant, rewards=(("Croissant", 50),))
    return merchant


def _buy(api, card, reference="R-1", amount="12.50", **extra):
    response = api.post(f"/cards/{card.card_number}/purchases",
                        json={"order_reference": reference, "amount": amount, "currency": "EUR",
                              **extra})
    assert response.status_code == 201, response.json
    return response.json


def _refund(api, reference="R-1", amount="2.50", key=None, **extra):
    return api.post(f"/orders/{reference}/refunds", json={"amount": amount, **extra}, key=key)


def _voided(reference):
    """(points, shortfall) the order's voids claimed, from the ledger."""
    T = LoyaltyTransaction
    return db.session.execute(select(func.coalesce(func.sum(-T.points_delta), 0),
                                     func.coalesce(func.sum(T.void_shortfall), 0))
                              .where(T.order_reference == reference,
                                     T.transaction_type == TransactionType.POINTS_VOIDED)).one()


def test_a_partial_refund_takes_back_what_that_part_earned(api, bakery):
    card = factories.card(bakery.merchant)
    earned = _buy(api, card, "R-1", "12.50")  # 125 points
    response = _refund(api, "R-1", "2.50")
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["amount"], body["order_amount"], body["refunded_total"], body["refundable"]) == (
        "2.50", "12.50", "2.50", "10.00")
    assert (body["points_taken"], body["points_shortfall"]) == (25, 0)
    assert body["card"]["points_balance"] == 100
    row = db.session.get(LoyaltyTransaction, body["transaction_ids"][0])
    assert (row.transaction_type, row.points_delta, row.related_transaction_id,
            row.purchase_amount_cents, row.order_reference) == (
        TransactionType.POINTS_VOIDED, -25, earned["transaction_ids"][0], 250, "R-1")
    assert row.api_key_id is not None
    assert ledger_drift() == []


def test_several_refunds_add_up_to_exactly_what_the_order_earned(api, bakery):
    card = factories.card(bakery.merchant)
    _buy(api, card, "R-2", "12.50")
    taken = [_refund(api, "R-2", amount).json["points_taken"] for amount in
             ("0.01", "5.00", "7.49")]
    assert taken == [1, 50, 74]  # floor keeps what is left: the first cent costs a point
    assert sum(taken) == 125
    full = _refund(api, "R-2", "0.01")
    assert full.status_code == 409
    assert full.json["detail"] == "Order R-2 was already refunded in full."
    db.session.refresh(card)
    assert card.points_balance == 0
    assert _voided("R-2") == (125, 0)
    assert ledger_drift() == []


def test_refunds_never_add_up_to_more_than_the_order(api, bakery):
    card = factories.card(bakery.merchant)
    _buy(api, card, "R-3", "12.50")
    over = _refund(api, "R-3", "12.51")
    assert over.status_code == 422
    assert over.json["errors"] == [{"field": "amount", "message":
                                    "At most 12.50 of order R-3 can still be refunded."}]
    assert _refund(api, "R-3", "10.00").status_code == 201
    again = _refund(api, "R-3", "2.51")
    assert again.status_code == 422
    assert again.json["detail"] == "At most 2.50 of order R-3 can still be refunded."
    assert _refund(api, "R-3", "2.50").json["refundable"] == "0.00"
    assert _voided("R-3") == (125, 0)


def test_a_refund_after_the_points_were_spent_takes_what_is_there_and_records_the_rest(
        api, bakery, counter):
    card = factories.card(bakery.merchant)
    _buy(api, card, "R-4", "12.50")  # 125
    redeem_reward(card, _croissant(), context=counter)  # 75 left
    response = _refund(api, "R-4", "12.50")
    assert response.status_code == 201
    assert (response.json["points_taken"], response.json["points_shortfall"]) == (75, 50)
    assert response.json["card"]["points_balance"] == 0
    assert _voided("R-4") == (75, 50)
    # The shortfall counts as claimed: the order cannot be refunded into a second take-back.
    assert _refund(api, "R-4", "0.01").status_code == 409
    assert ledger_drift() == []


def _croissant():
    from loyalty.models import Reward

    return db.session.scalar(select(Reward.id).where(Reward.name == "Croissant"))


def test_a_counters_void_of_the_purchase_counts_towards_the_refund(api, bakery, counter):
    card = factories.card(bakery.merchant)
    earned = _buy(api, card, "R-5", "12.50")
    void_points(card, earned["transaction_ids"][0], points=50, context=counter,
                manages_store=True)  # 75 left on the order
    assert _refund(api, "R-5", "2.50").json["points_taken"] == 0  # the order keeps 100 > 75
    assert _refund(api, "R-5", "10.00").json["points_taken"] == 75
    assert already_voided(earned["transaction_ids"][0]) == 125
    assert ledger_drift() == []


def test_the_same_idempotency_key_refunds_once(api, bakery):
    card = factories.card(bakery.merchant)
    _buy(api, card, "R-6", "12.50")
    first = _refund(api, "R-6", "2.50", key="refund-1")
    again = _refund(api, "R-6", "2.50", key="refund-1")
    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    other_body = _refund(api, "R-6", "3.00", key="refund-1")
    assert other_body.status_code == 422
    assert _voided("R-6") == (25, 0)
    # Without a key, the same refund sent twice is two refunds (a till must send one).
    _refund(api, "R-6", "2.50")
    assert _voided("R-6") == (50, 0)


def test_an_order_that_never_earned_is_not_found(api, bakery, make_api, other_merchant):
    card = factories.card(bakery.merchant)
    assert _refund(api, "NEVER").status_code == 404
    refused = api.post(f"/cards/{card.card_number}/purchases",
                       json={"order_reference": "SMALL", "amount": "0.05", "currency": "EUR"})
    assert refused.status_code == 409  # too small to earn a point: nothing was credited
    missing = _refund(api, "SMALL")
    assert missing.status_code == 404
    assert missing.json["detail"] == "No purchase with this order reference earned anything here."
    factories.points_program(other_merchant.merchant)
    theirs = make_api(other_merchant)
    _buy(api, card, "MINE", "5.00")
    assert _refund(theirs, "MINE").status_code == 404


def test_a_refund_needs_the_purchases_scope_and_a_valid_amount(bakery, make_api):
    api = make_api(bakery)
    card = factories.card(bakery.merchant)
    _buy(api, card, "R-7", "12.50")
    redeemer = make_api(bakery, scopes=("cards:read", "redemptions"))
    assert _refund(redeemer, "R-7").status_code == 403
    for amount in ("0", "-1", "2.505", "abc"):
        assert _refund(api, "R-7", amount).status_code == 422
    assert _refund(api, "R-7", "1.00", currency="USD").status_code == 422
    assert api.post("/orders/R-7/refunds", json={"amount": 2.5}).status_code == 422
    assert _voided("R-7") == (0, 0)


def test_an_order_credited_at_the_counter_with_its_reference_can_be_refunded(api, bakery,
                                                                             counter):
    card = factories.card(bakery.merchant)
    earn_points(card, 2000, context=counter, order_reference="POS-1")
    response = _refund(api, "POS-1", "5.00")
    assert response.status_code == 201
    assert response.json["points_taken"] == 50


def test_a_visits_stamp_goes_back_only_with_the_last_of_the_order(api, merchant, frozen_clock):
    factories.stamp_program(merchant.merchant, cooldown_minutes=30)
    card = factories.card(merchant.merchant)
    _buy(api, card, "V-1", "8.00")
    partial = _refund(api, "V-1", "3.00")
    assert partial.status_code == 201
    assert (partial.json["stamps_taken"], partial.json["card"]["stamp_count"]) == (0, 1)
    full = _refund(api, "V-1", "5.00")
    assert (full.json["stamps_taken"], full.json["card"]["stamp_count"]) == (1, 0)
    # The voided stamp frees the cooldown, as a counter's void does.
    assert api.post(f"/cards/{card.card_number}/stamps", json={}).status_code == 201
    assert ledger_drift() == []


def test_a_hybrid_order_gives_back_its_points_and_stamps_in_proportion(api, merchant):
    factories.hybrid_program(merchant.merchant)
    card = factories.card(merchant.merchant)
    _buy(api, card, "H-1", "9.00", stamps=3)  # 90 points, 3 stamps
    body = _refund(api, "H-1", "3.00").json
    assert (body["points_taken"], body["stamps_taken"]) == (30, 1)
    assert len(body["transaction_ids"]) == 2
    body = _refund(api, "H-1", "6.00").json
    assert (body["points_taken"], body["stamps_taken"]) == (60, 2)
    assert (body["card"]["points_balance"], body["card"]["stamp_count"]) == (0, 0)
    assert ledger_drift() == []


def test_a_refund_needs_no_void_window_nor_voids_switched_on(api, bakery, frozen_clock):
    from loyalty.models import MerchantLoyaltySettings

    card = factories.card(bakery.merchant)
    _buy(api, card, "R-8", "12.50")
    settings = db.session.scalar(select(MerchantLoyaltySettings).where(
        MerchantLoyaltySettings.merchant_id == bakery.merchant.id))
    settings.allow_voids = False
    db.session.commit()
    frozen_clock.advance(days=400)
    assert _refund(api, "R-8", "12.50").json["points_taken"] == 125
