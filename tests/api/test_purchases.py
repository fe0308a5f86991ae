"""POST /api/v1/cards/{number}/purchases: an order earns once per reference, by the terminal's
own rules, with the key as the actor and no staff PIN."""
import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import LoyaltyTransaction, TransactionType
from loyalty.services.engine.ledger import ledger_drift
from tests import factories


@pytest.fixture
def bakery(merchant):
    """10 points per euro, purchases from 1.00 earn."""
    factories.points_program(merchant.merchant, minimum_purchase_cents=100)
    return merchant


def _buy(api, card, reference="T1-001", amount="12.50", **extra):
    return api.post(f"/cards/{card.card_number}/purchases",
                    json={"order_reference": reference, "amount": amount, "currency": "EUR",
                          **extra}, **({"key": extra.pop("key")} if "key" in extra else {}))


def test_a_purchase_earns_the_programs_points_and_answers_the_cards_new_state(api, bakery):
    card = factories.card(bakery.merchant, name="Anna Muller")
    response = _buy(api, card, amount="12.50")
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["order_reference"], body["amount"], body["currency"]) == ("T1-001", "12.50",
                                                                          "EUR")
    assert (body["points_earned"], body["stamps_added"]) == (125, 0)
    assert body["card"]["number"] == card.card_number
    assert body["card"]["points_balance"] == 125
    assert body["card"]["customer"]["name"] == "Anna Muller"
    row = db.session.get(LoyaltyTransaction, body["transaction_ids"][0])
    assert (row.transaction_type, row.points_delta, row.purchase_amount_cents,
            row.order_reference) == (TransactionType.POINTS_EARNED, 125, 1250, "T1-001")
    assert row.api_key_id is not None and row.staff_pin_id is None
    assert "Idempotent-Replayed" not in response.headers


def test_the_card_number_may_come_without_dashes(api, bakery):
    card = factories.card(bakery.merchant)
    response = api.post(f"/cards/{card.card_number.replace('-', '')}/purchases",
                        json={"order_reference": "A", "amount": "5", "currency": "eur"})
    assert response.status_code == 201
    assert response.json["points_earned"] == 50


def test_the_same_order_reference_earns_once_and_answers_the_first_answer_again(api, bakery):
    card = factories.card(bakery.merchant)
    first = _buy(api, card, "T1-7", "12.50")
    again = _buy(api, card, "T1-7", "12.50")
    different_amount = _buy(api, card, "T1-7", "99.00")
    assert again.status_code == different_amount.status_code == 201
    assert again.get_data() == first.get_data() == different_amount.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    db.session.refresh(card)
    assert card.points_balance == 125
    assert ledger_drift() == []


def test_the_same_order_reference_on_another_card_is_refused(api, bakery):
    first, second = factories.card(bakery.merchant), factories.card(bakery.merchant)
    assert _buy(api, first, "T1-8").status_code == 201
    response = _buy(api, second, "T1-8")
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert "already credited to another card" in response.json["detail"]
    db.session.refresh(second)
    assert second.points_balance == 0


def test_an_order_the_counter_credited_with_its_reference_does_not_earn_again(api, bakery,
                                                                               counter):
    from loyalty.services.engine.points import earn_points

    card = factories.card(bakery.merchant)
    earn_points(card, 1000, context=counter, order_reference="T1-9")
    response = _buy(api, card, "T1-9")
    assert response.status_code == 409
    assert response.json["type"] == "urn:loyalty:problem:refused"
    assert response.json["detail"] == "Order T1-9 already earned points. Nothing was added."


@pytest.mark.parametrize("amount, message", [
    ("12.505", "EUR amounts have at most 2 decimals."),
    ("0", "The amount must be more than zero."),
    ("0.00", "The amount must be more than zero."),
    ("-5.00", 'Send the amount as a decimal string such as "12.50".'),
    ("1e3", 'Send the amount as a decimal string such as "12.50".'),
    ("NaN", 'Send the amount as a decimal string such as "12.50".'),
    ("12,50", 'Send the amount as a decimal string such as "12.50".'),
    ("12.", 'Send the amount as a decimal string such as "12.50".'),
    ("100000.01", "The amount is too large: at most 100000.00."),
    ("9" * 30, 'Send the amount as a decimal string such as "12.50".'),
])
def test_an_amount_that_is_not_a_purchase_is_a_422_on_the_amount(api, bakery, amount, message):
    card = factories.card(bakery.merchant)
    response = _buy(api, card, amount=amount)
    assert response.status_code == 422, response.json
    assert response.json["errors"] == [{"field": "amount", "message": message}]
    assert db.session.scalar(select(LoyaltyTransaction.id).where(
        LoyaltyTransaction.transaction_type == TransactionType.POINTS_EARNED)) is None


@pytest.mark.parametrize("body", [
    {"amount": 12.5}, {"amount": None}, {"amount": ["1"]}, {"order_reference": ""},
    {"order_reference": "x" * 65}, {"currency": "EURO"}, {"stamps": 1.5}, {"tip": "1.00"},
])
def test_a_body_of_the_wrong_shape_is_a_422(api, bakery, body):
    card = factories.card(bakery.merchant)
    response = api.post(f"/cards/{card.card_number}/purchases",
                        json={"order_reference": "A", "amount": "1.00", "currency": "EUR", **body})
    assert response.status_code == 422
    assert response.json["errors"]


def test_another_currency_than_the_shops_is_a_422(api, bakery):
    card = factories.card(bakery.merchant)
    response = api.post(f"/cards/{card.card_number}/purchases",
                        json={"order_reference": "A", "amount": "1.00", "currency": "USD"})
    assert response.status_code == 422
    assert response.json["errors"] == [{"field": "currency", "message":
                                        "This shop's currency is EUR: send amounts in it."}]


def test_below_the_minimum_purchase_is_refused_with_the_counters_words_and_claims_nothing(
        api, bakery):
    card = factories.card(bakery.merchant)
    response = _buy(api, card, "T1-10", "0.90")
    assert response.status_code == 409
    assert response.json["type"] == "urn:loyalty:problem:refused"
    assert response.json["detail"] == "Purchases below €1.00 earn no points."
    assert _buy(api, card, "T1-10", "1.00").status_code == 201  # the reference was not used up


def test_the_purchase_counts_at_the_store_sent_or_the_keys_own_store(bakery, make_api):
    card = factories.card(bakery.merchant)
    anywhere = make_api(bakery)
    assert _buy(anywhere, card, "A", store="S2").status_code == 201
    unknown = _buy(anywhere, card, "B", store="NOPE")
    assert unknown.status_code == 422 and unknown.json["errors"][0]["field"] == "store"
    till = make_api(bakery, store=bakery.stores[0], name="Till 2, Gare")
    assert _buy(till, card, "C").status_code == 201
    assert _buy(till, card, "D", store="s1").status_code == 201
    elsewhere = _buy(till, card, "E", store="S2")
    assert elsewhere.status_code == 403
    assert elsewhere.json["detail"] == ("This API key belongs to store S1: it cannot act for "
                                        "another store.")
    rows = db.session.execute(select(LoyaltyTransaction.order_reference,
                                     LoyaltyTransaction.store_id)
                              .where(LoyaltyTransaction.order_reference.is_not(None))
                              .order_by(LoyaltyTransaction.id)).all()
    assert rows == [("A", bakery.stores[1].id), ("C", bakery.stores[0].id),
                    ("D", bakery.stores[0].id)]


def test_a_stamp_only_program_gives_one_stamp_for_the_visit_with_its_cooldown_and_cap(
        api, merchant, frozen_clock):
    factories.stamp_program(merchant.merchant, cooldown_minutes=15, max_stamps_per_day=2)
    card = factories.card(merchant.merchant)
    first = _buy(api, card, "V1", "4.20")
    assert first.status_code == 201
    assert (first.json["points_earned"], first.json["stamps_added"]) == (0, 1)
    assert first.json["card"]["stamp_count"] == 1 and first.json["card"]["stamps_target"] == 10
    cooling = _buy(api, card, "V2", "3.00")
    assert cooling.status_code == 409
    assert cooling.json["detail"].startswith("This card got a stamp less than 15 minutes ago.")
    frozen_clock.advance(minutes=15)
    assert _buy(api, card, "V2", "3.00").status_code == 201
    frozen_clock.advance(minutes=15)
    capped = _buy(api, card, "V3", "3.00")
    assert capped.status_code == 409
    assert capped.json["detail"] == ("This card already got 2 stamps today, the daily limit. "
                                     "More stamps are possible tomorrow from 00:00.")
    stamps_asked = _buy(api, card, "V4", "3.00", stamps=2)
    assert stamps_asked.status_code == 422
    row = db.session.scalar(select(LoyaltyTransaction).where(
        LoyaltyTransaction.order_reference == "V1"))
    assert (row.transaction_type, row.stamps_delta, row.purchase_amount_cents) == (
        TransactionType.STAMP_EARNED, 1, 420)


def test_a_hybrid_program_earns_points_and_the_stamps_sent_in_one_go(api, merchant):
    factories.hybrid_program(merchant.merchant, stamps_target=5)
    card = factories.card(merchant.merchant)
    response = _buy(api, card, "H1", "9.00", stamps=3)
    assert response.status_code == 201
    body = response.json
    assert (body["points_earned"], body["stamps_added"]) == (90, 3)
    assert len(body["transaction_ids"]) == 2
    assert (body["card"]["points_balance"], body["card"]["stamp_count"]) == (90, 3)
    just_points = _buy(api, card, "H2", "1.00")
    assert (just_points.json["points_earned"], just_points.json["stamps_added"]) == (10, 0)


def test_a_hybrid_order_is_refused_whole_when_its_stamps_are(api, merchant, frozen_clock):
    factories.hybrid_program(merchant.merchant, max_stamps_per_day=2)
    card = factories.card(merchant.merchant)
    response = _buy(api, card, "H1", "9.00", stamps=3)
    assert response.status_code == 409
    assert response.json["detail"] == "Only 2 more stamps are possible on this card today."
    db.session.refresh(card)
    assert (card.points_balance, card.stamp_count) == (0, 0)


def test_a_program_that_requires_a_staff_pin_takes_the_key_instead(api, merchant):
    factories.points_program(merchant.merchant, require_staff_pin=True)
    card = factories.card(merchant.merchant)
    assert _buy(api, card, "P1", "2.00").status_code == 201


def test_scope_unknown_card_another_merchants_card_and_a_paused_card(merchant, other_merchant,
                                                                     make_api):
    factories.points_program(merchant.merchant)
    factories.points_program(other_merchant.merchant)
    card = factories.card(merchant.merchant)
    theirs = factories.card(other_merchant.merchant)
    reader = make_api(merchant, scopes=("cards:read",))
    refused = _buy(reader, card)
    assert refused.status_code == 403
    assert "purchases" in refused.json["detail"]
    api = make_api(merchant)
    assert _buy(api, theirs).status_code == 404
    missing = api.post("/cards/0000-0000-0000/purchases",
                       json={"order_reference": "A", "amount": "1.00", "currency": "EUR"})
    assert missing.status_code == 404
    assert missing.json["type"] == "urn:loyalty:problem:card-not-found"
    from loyalty.services.engine.cards import deactivate_card

    deactivate_card(card)
    paused = _buy(api, card, "Z")
    assert paused.status_code == 409
    assert paused.json["detail"].startswith("This card is deactivated.")


def test_refusals_are_in_the_callers_language(merchant, make_api):
    factories.points_program(merchant.merchant, minimum_purchase_cents=500)
    card = factories.card(merchant.merchant)
    api = make_api(merchant, language="fr")
    response = _buy(api, card, "F1", "1.00")
    assert response.status_code == 409
    assert response.json["detail"] == "Les achats inférieurs à 5,00\xa0€ ne rapportent pas de points."


def test_the_owners_card_page_names_the_key_as_the_actor(api, bakery, auth, client):
    card = factories.card(bakery.merchant)
    _buy(api, card, "T1-1")
    auth.login_as(bakery.owner)
    page = client.get(f"/merchant/cards/{card.id}")
    assert page.status_code == 200
    assert "Till 1 (API key)" in page.get_data(as_text=True)


def test_the_ledger_export_names_the_key_as_the_actor(api, bakery):
    from loyalty.services.merchant.exports import transaction_rows

    card = factories.card(bakery.merchant)
    _buy(api, card, "T1-2")
    rows = [row for row in transaction_rows(bakery.merchant) if row[1] == "points_earned"]
    assert [(row[4], row[10]) for row in rows] == [("Till 1", "T1-2")]
