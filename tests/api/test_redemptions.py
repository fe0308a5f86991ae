"""POST /cards/{number}/stamps and /redemptions: the counter's rules and words, the key as
the actor, no staff PIN."""
import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import LoyaltyTransaction, MerchantLoyaltySettings, Reward, TransactionType
from loyalty.services.engine.ledger import ledger_drift
from loyalty.services.engine.points import earn_points
from tests import factories


@pytest.fixture
def coffee(merchant):
    factories.stamp_program(merchant.merchant, stamps_target=3, cooldown_minutes=15,
                            max_stamps_per_day=3, require_staff_pin=True)
    return merchant


@pytest.fixture
def bakery(merchant):
    factories.points_program(merchant.merchant, rewards=(("Croissant", 50), ("Cake", 200)),
                             minimum_redemption_points=40)
    return merchant


def _reward(name):
    return db.session.scalar(select(Reward.id).where(Reward.name == name))


def test_stamps_follow_the_cooldown_and_the_daily_cap_with_the_counters_words(
        api, coffee, frozen_clock):
    card = factories.card(coffee.merchant)
    path = f"/cards/{card.card_number}/stamps"
    first = api.post(path, json={"quantity": 2})
    assert first.status_code == 201, first.json  # no staff PIN: the key is the credential
    assert (first.json["stamps_added"], first.json["card"]["stamp_count"]) == (2, 2)
    cooling = api.post(path, json={})
    assert cooling.status_code == 409
    assert cooling.json["type"] == "urn:loyalty:problem:refused"
    assert cooling.json["detail"].startswith("This card got a stamp less than 15 minutes ago. "
                                             "The next stamp is possible in 15 min, at 12:15")
    frozen_clock.advance(minutes=15)
    over = api.post(path, json={"quantity": 2})
    assert over.status_code == 409
    assert over.json["detail"] == "Only 1 more stamp is possible on this card today."
    assert api.post(path, json={"quantity": 1}).status_code == 201
    frozen_clock.advance(minutes=15)
    capped = api.post(path, json={})
    assert capped.json["detail"] == ("This card already got 3 stamps today, the daily limit. "
                                     "More stamps are possible tomorrow from 00:00.")
    for bad in ({"quantity": 0}, {"quantity": 21}, {"quantity": "1"}, {"quantity": True},
                {"stamps": 1}):
        assert api.post(path, json=bad).status_code == 422
    rows = db.session.scalars(select(LoyaltyTransaction).where(
        LoyaltyTransaction.transaction_type == TransactionType.STAMP_EARNED)).all()
    assert {(row.api_key_id is not None, row.staff_pin_id) for row in rows} == {(True, None)}


def test_the_stamp_reward_needs_a_full_card(api, coffee, frozen_clock):
    card = factories.card(coffee.merchant)
    path = f"/cards/{card.card_number}/redemptions"
    early = api.post(path, json={"stamp_reward": True})
    assert early.status_code == 409
    assert early.json["detail"] == "Not enough stamps yet: 0 of 3."
    api.post(f"/cards/{card.card_number}/stamps", json={"quantity": 3})
    response = api.post(path, json={"stamp_reward": True})
    assert response.status_code == 201, response.json
    body = response.json
    assert body["reward"] == {"id": None, "kind": "stamps", "name": "A free coffee"}
    assert (body["stamps_spent"], body["points_spent"], body["card"]["stamp_count"]) == (3, 0, 0)


def test_a_points_reward_spends_the_balance_and_is_refused_without_it(api, bakery, counter):
    card = factories.card(bakery.merchant)
    earn_points(card, 600, context=counter)  # 60 points
    path = f"/cards/{card.card_number}/redemptions"
    cake = api.post(path, json={"reward_id": _reward("Cake")})
    assert cake.status_code == 409
    assert cake.json["detail"] == "Not enough points: Cake costs 200, this card has 60."
    croissant = api.post(path, json={"reward_id": _reward("Croissant")})
    assert croissant.status_code == 201
    assert croissant.json["reward"]["name"] == "Croissant"
    assert (croissant.json["points_spent"], croissant.json["card"]["points_balance"]) == (50, 10)
    below = api.post(path, json={"reward_id": _reward("Croissant")})
    assert below.json["detail"] == "Rewards can be redeemed from 40 points; this card has 10."
    gone = api.post(path, json={"reward_id": 999999})
    assert gone.status_code == 404
    assert gone.json["detail"] == "This reward is not available any more."
    assert ledger_drift() == []


@pytest.mark.parametrize("body", [{}, {"reward_id": 1, "stamp_reward": True},
                                  {"stamp_reward": False}, {"reward_id": "1"},
                                  {"reward_id": 2**40}, {"reward_id": None}])
def test_a_redemption_names_exactly_one_reward(api, bakery, body):
    card = factories.card(bakery.merchant)
    response = api.post(f"/cards/{card.card_number}/redemptions", json=body)
    assert response.status_code == 422, response.json


def test_redemptions_need_their_scope_and_the_home_store_rule_applies(bakery, make_api, counter):
    card = factories.card(bakery.merchant, store=bakery.stores[0])
    earn_points(card, 1000, context=counter)
    till = make_api(bakery, scopes=("cards:read", "purchases"))
    path = f"/cards/{card.card_number}/redemptions"
    assert till.post(path, json={"reward_id": _reward("Croissant")}).status_code == 403
    settings = db.session.scalar(select(MerchantLoyaltySettings).where(
        MerchantLoyaltySettings.merchant_id == bakery.merchant.id))
    settings.allow_cross_location_redemption = False
    db.session.commit()
    away = make_api(bakery, store=bakery.stores[1])
    refused = away.post(path, json={"reward_id": _reward("Croissant")})
    assert refused.status_code == 409
    assert refused.json["detail"] == ("Rewards for this card can only be redeemed at the store "
                                      "that issued it.")
    home = make_api(bakery, store=bakery.stores[0])
    assert home.post(path, json={"reward_id": _reward("Croissant")}).status_code == 201


def test_a_retried_redemption_with_its_idempotency_key_spends_once(api, bakery, counter):
    card = factories.card(bakery.merchant)
    earn_points(card, 1000, context=counter)
    path = f"/cards/{card.card_number}/redemptions"
    first = api.post(path, json={"reward_id": _reward("Croissant")}, key="redeem-1")
    again = api.post(path, json={"reward_id": _reward("Croissant")}, key="redeem-1")
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    db.session.refresh(card)
    assert card.points_balance == 50
