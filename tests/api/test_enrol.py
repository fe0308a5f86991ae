"""POST /api/v1/cards: a web shop or a till enrols a customer, with the pages' rules."""
import pytest
from sqlalchemy import func, select

from loyalty.extensions import db
from loyalty.models import Customer, LoyaltyCard, LoyaltyTransaction, SentEmail
from loyalty.services.engine import cards as engine_cards
from loyalty.services.merchant import programs
from tests import factories

CONSENT = {"terms_version": "2026-01", "given": True}


@pytest.fixture
def program(merchant):
    return factories.points_program(merchant.merchant, welcome_bonus_points=25)


def _count(model):
    db.session.commit()
    return db.session.scalar(select(func.count(model.id)))


def test_a_new_customer_gets_a_new_card_201(make_api, merchant, program):
    api = make_api(merchant, store=merchant.stores[1], name="Web shop")
    response = api.post("/cards", json={"name": "Anna Muller", "email": "Anna@Example.com",
                                        "phone": "621 100 002", "language": "fr",
                                        "consent": CONSENT})
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "active"
    assert body["points_balance"] == 25  # the welcome bonus, as on the pages
    assert body["customer"] == {"name": "Anna Muller", "language": "fr"}
    card = db.session.scalar(select(LoyaltyCard).where(LoyaltyCard.card_number == body["number"]))
    customer = db.session.get(Customer, card.customer_id)
    assert (customer.email, customer.phone) == ("anna@example.com", "+352621100002")
    assert customer.terms_version == "2026-01" and customer.consent_at is not None
    assert card.enrolled_at_store_id == merchant.stores[1].id
    created = api.get(f"/cards/{body['number']}/transactions").json["transactions"]
    assert {(row["type"], row["actor"]["kind"], row["actor"]["name"], row["store"])
            for row in created} == {("card_created", "api", "Web shop", "S2"),
                                    ("welcome_bonus", "api", "Web shop", "S2")}


def test_a_new_customer_with_an_email_is_sent_the_welcome_email(api, program):
    api.post("/cards", json={"name": "Anna", "email": "anna@example.com", "consent": CONSENT})
    assert db.session.scalars(select(SentEmail.template).where(
        SentEmail.to_address == "anna@example.com")).all() == ["welcome"]


def test_a_phone_alone_is_enough(api, program):
    response = api.post("/cards", json={"name": "Paul", "phone": "+352 621 100 003",
                                        "consent": CONSENT})
    assert response.status_code == 201
    assert response.json["customer"] == {"name": "Paul", "language": None}


@pytest.mark.parametrize("known_by", [{"email": "ANNA@example.com "},
                                      {"phone": "00352 621 100 002"},
                                      {"email": "new@example.com", "phone": "621100002"}])
def test_a_known_customer_gets_their_card_back_200_not_a_second(api, merchant, program,
                                                                 known_by):
    first = factories.card(merchant.merchant, name="Anna", email="anna@example.com",
                           phone="+352621100002")
    cards_before = _count(LoyaltyCard)
    response = api.post("/cards", json={"name": "Anna M.", **known_by, "consent": CONSENT})
    assert response.status_code == 200, response.json
    assert response.json["number"] == first.card_number
    assert _count(LoyaltyCard) == cards_before


def test_the_same_idempotency_key_replays_the_first_answer(api, program):
    body = {"name": "Anna", "email": "anna@example.com", "consent": CONSENT}
    first = api.post("/cards", json=body, key="enrol-1")
    again = api.post("/cards", json=body, key="enrol-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(LoyaltyCard) == 1
    other = api.post("/cards", json={**body, "name": "Someone else"}, key="enrol-1")
    assert other.status_code == 422


def _errors(response):
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    return {error["field"] for error in response.json["errors"]}


@pytest.mark.parametrize(("body", "fields"), [
    ({"name": "", "email": "a@example.com", "consent": CONSENT}, {"name"}),
    ({"name": "   ", "email": "a@example.com", "consent": CONSENT}, {"name"}),
    ({"name": "Anna", "consent": CONSENT}, {"email"}),
    ({"name": "Anna", "email": "not-an-email", "consent": CONSENT}, {"email"}),
    ({"name": "Anna", "email": "anna@@example.com", "consent": CONSENT}, {"email"}),
    ({"name": "Anna", "phone": "12", "consent": CONSENT}, {"phone"}),
    ({"name": "Anna", "phone": "call me", "consent": CONSENT}, {"phone"}),
    ({"name": "", "email": "bad", "phone": "12", "consent": CONSENT}, {"name", "email", "phone"}),
    ({"name": "Anna", "email": "a@example.com",
      "consent": {"terms_version": "2026-01", "given": False}}, {"consent.given"}),
    ({"name": "Anna", "email": "a@example.com",
      "consent": {"terms_version": "  ", "given": True}}, {"consent.terms_version"}),
])
def test_invalid_input_names_each_field(api, program, body, fields):
    assert _errors(api.post("/cards", json=body)) == fields
    assert _count(LoyaltyCard) == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"email": "a@example.com", "consent": CONSENT}, "name"),
    ({"name": "Anna", "email": "a@example.com"}, "consent"),
    ({"name": 7, "email": "a@example.com", "consent": CONSENT}, "name"),
    ({"name": "Anna", "email": "a@example.com", "consent": {"terms_version": "1",
                                                           "given": "yes"}}, "consent.given"),
    ({"name": "Anna", "email": "a@example.com", "consent": CONSENT, "language": "es"},
     "language"),
    ({"name": "Anna", "email": "a@example.com", "consent": CONSENT, "vip": True}, "vip"),
    ({"name": "A" * 121, "email": "a@example.com", "consent": CONSENT}, "name"),
    ({"name": "Anna", "email": "a@example.com",
      "consent": {"terms_version": "x" * 17, "given": True}}, "consent.terms_version"),
])
def test_a_body_of_the_wrong_shape_is_422(api, program, body, field):
    assert field in _errors(api.post("/cards", json=body))


def test_the_field_errors_are_in_the_callers_language(make_api, merchant, program):
    french = make_api(merchant, language="fr")
    response = french.post("/cards", json={"name": "", "email": "a@example.com",
                                           "consent": CONSENT})
    assert response.status_code == 422
    [error] = response.json["errors"]
    assert error["field"] == "name"
    assert error["message"] != "Enter the customer's name."


def test_a_paused_program_refuses_with_409(api, merchant, program):
    programs.deactivate_program(program)
    response = api.post("/cards", json={"name": "Anna", "email": "a@example.com",
                                        "consent": CONSENT})
    assert response.status_code == 409
    assert response.json["type"] == "urn:loyalty:problem:refused"


def test_enrolling_needs_the_cards_write_scope(make_api, merchant, program):
    reader = make_api(merchant, scopes=("cards:read",))
    response = reader.post("/cards", json={"name": "Anna", "email": "a@example.com",
                                           "consent": CONSENT})
    assert response.status_code == 403
    assert _count(LoyaltyCard) == 0


def test_a_customer_of_another_merchant_is_a_new_customer_here(api, merchant, program,
                                                               other_merchant):
    factories.points_program(other_merchant.merchant)
    theirs = factories.card(other_merchant.merchant, email="anna@example.com")
    response = api.post("/cards", json={"name": "Anna", "email": "anna@example.com",
                                        "consent": CONSENT})
    assert response.status_code == 201
    assert response.json["number"] != theirs.card_number
    assert _count(LoyaltyTransaction) == 3  # their card_created, ours and our welcome bonus


def test_the_card_is_the_one_the_engine_finds(api, merchant, program):
    number = api.post("/cards", json={"name": "Anna", "email": "anna@example.com",
                                      "consent": CONSENT}).json["number"]
    assert engine_cards.card_by_number(merchant.id, number).customer.name == "Anna"
