"""GET /api/v1/cards/{number}/transactions: a card's history, newest first, a page at a time
(a cursor that holds while new rows are written)."""
import re

import pytest
from sqlalchemy import func, select

from loyalty.extensions import db
from loyalty.models import ApiKey, LoyaltyTransaction
from loyalty.services.customers import my_data
from loyalty.services.engine import adjustments, points, staff_pins
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.integrations import card_history
from tests import factories

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def bakery(merchant):
    return factories.points_program(merchant.merchant, minimum_redemption_points=0)


def _rows(api, number, **query):
    response = api.get(f"/cards/{number}/transactions", query_string=query)
    assert response.status_code == 200, response.json
    return response.json


def test_each_row_says_what_who_where_and_when(api, merchant, bakery, counter, frozen_clock):
    card = factories.card(merchant.merchant)
    points.earn_points(card, 1250, context=counter, order_reference="ORD-7")
    croissant = min(bakery.rewards, key=lambda reward: reward.points_cost)
    points.redeem_reward(card, croissant.id, context=counter)
    body = _rows(api, card.card_number)
    assert body["next_cursor"] is None
    redeemed, earned, created = body["transactions"]
    assert earned == {
        "id": earned["id"], "type": "points_earned", "stamps_delta": 0, "points_delta": 125,
        "stamps_balance_after": 0, "points_balance_after": 125, "amount": "12.50",
        "order_reference": "ORD-7", "reward": None, "store": "S1",
        "actor": {"kind": "staff", "name": "Café Test staff"},
        "created_at": "2026-06-15T10:00:00Z",
    }
    assert (redeemed["type"], redeemed["points_delta"], redeemed["points_balance_after"]) == (
        "points_redeemed", -50, 75)
    assert redeemed["reward"] == {"id": croissant.id, "name": "Croissant"}
    assert redeemed["amount"] is None
    assert created["type"] == "card_created"
    assert created["id"] < earned["id"] < redeemed["id"]


def test_the_actor_is_the_staff_pin_the_owner_the_key_or_the_system(
        make_api, merchant, bakery, counter):
    api = make_api(merchant, name="Till 2, Gare")
    card = factories.card(merchant.merchant)  # enrolled with no one acting: the system
    pia = staff_pins.create_staff_pin(merchant.merchant, merchant.stores[0], "Pia", "4321")
    points.earn_points(card, 100, context=ActionContext(
        store_id=merchant.stores[0].id, user_id=merchant.staff.id, pin="4321",
        staff_pin_id=pia.id))
    adjustments.adjust_points(card, 5, reason="Goodwill", user=merchant.owner,
                              context=ActionContext(user_id=merchant.owner.id))
    points.earn_points(card, 200, context=ActionContext(api_key_id=_key_id(merchant)))
    actors = [row["actor"] for row in _rows(api, card.card_number)["transactions"]]
    assert actors == [{"kind": "api", "name": "Till 2, Gare"},
                      {"kind": "owner", "name": "Café Test owner"},
                      {"kind": "staff", "name": "Pia"},
                      {"kind": "system", "name": None}]


def _key_id(merchant):
    return db.session.scalar(select(ApiKey.id).where(ApiKey.merchant_id == merchant.id)
                             .order_by(ApiKey.id.desc()))


def test_an_erased_customers_history_stays_without_their_data(api, merchant, bakery, counter):
    card = factories.card(merchant.merchant, name="Erin Erased", email="erin@example.com")
    points.earn_points(card, 300, context=counter)
    my_data.erase(card)
    response = api.get(f"/cards/{card.card_number}/transactions")
    assert response.status_code == 200
    assert "Erin" not in response.get_data(as_text=True)
    assert response.json["transactions"][0]["actor"] == {"kind": "system", "name": None}


def test_pages_follow_the_cursor_to_the_end(api, merchant, bakery, counter):
    card = factories.card(merchant.merchant)
    for cents in range(100, 1300, 100):  # 12 purchases + card_created = 13 rows
        points.earn_points(card, cents, context=counter)
    seen, cursor = [], None
    while True:
        body = _rows(api, card.card_number, limit=5, **({"cursor": cursor} if cursor else {}))
        seen += [row["id"] for row in body["transactions"]]
        assert len(body["transactions"]) <= 5
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 13 == len(set(seen))
    assert seen == sorted(seen, reverse=True)


def test_a_page_boundary_holds_while_new_rows_are_written(api, merchant, bakery, counter):
    card = factories.card(merchant.merchant)
    for _ in range(9):
        points.earn_points(card, 100, context=counter)  # 10 rows with card_created
    first = _rows(api, card.card_number, limit=4)
    for _ in range(3):  # a till keeps selling while the history is read
        points.earn_points(card, 100, context=counter)
    second = _rows(api, card.card_number, limit=4, cursor=first["next_cursor"])
    third = _rows(api, card.card_number, limit=4, cursor=second["next_cursor"])
    ids = [row["id"] for page in (first, second, third) for row in page["transactions"]]
    every_old_row = db.session.scalars(
        select(LoyaltyTransaction.id).where(LoyaltyTransaction.card_id == card.id)
        .order_by(LoyaltyTransaction.id.desc()).offset(3)).all()
    assert ids == every_old_row  # nothing twice, nothing skipped, the new rows not mixed in
    assert third["next_cursor"] is None
    newest = _rows(api, card.card_number, limit=3)["transactions"]
    assert [row["points_balance_after"] for row in newest] == [120, 110, 100]


def test_the_default_page_is_50_and_100_is_the_most(api, merchant, bakery, counter):
    card = factories.card(merchant.merchant)
    for _ in range(55):
        points.earn_points(card, 100, context=counter)
    assert len(_rows(api, card.card_number)["transactions"]) == 50
    assert len(_rows(api, card.card_number, limit=100)["transactions"]) == 56


@pytest.mark.parametrize("query", [
    {"cursor": "nonsense"}, {"cursor": card_history.encode_cursor(0)}, {"cursor": "djEuLTE"},
    {"cursor": "\u00e9t\u00e9"}, {"cursor": "x" * 65}, {"limit": "0"}, {"limit": "101"},
    {"limit": "ten"}, {"limit": "99999999999999999999999"}, {"sort": "asc"},
])
def test_a_bad_cursor_or_limit_is_422(api, merchant, bakery, query):
    card = factories.card(merchant.merchant)
    response = api.get(f"/cards/{card.card_number}/transactions", query_string=query)
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert response.json["errors"]


def test_a_cursor_only_pages_within_the_card_it_is_used_on(api, merchant, bakery, counter):
    mine, other = factories.card(merchant.merchant), factories.card(merchant.merchant)
    for _ in range(3):
        points.earn_points(other, 100, context=counter)
    cursor = _rows(api, other.card_number, limit=1)["next_cursor"]
    assert [row["type"] for row in _rows(api, mine.card_number, cursor=cursor)[
        "transactions"]] == ["card_created"]


def test_reading_history_writes_nothing(api, merchant, bakery):
    card = factories.card(merchant.merchant)
    db.session.commit()
    before = db.session.scalar(select(func.count(LoyaltyTransaction.id)))
    _rows(api, card.card_number)
    assert db.session.scalar(select(func.count(LoyaltyTransaction.id))) == before
