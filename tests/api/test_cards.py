"""GET /api/v1/cards?query=... and /api/v1/cards/{number}: what a till reads of a card."""
import pytest

from loyalty.services.customers import my_data
from loyalty.services.engine import cards as engine_cards
from loyalty.services.engine import points, stamps
from loyalty.services.merchant import texts as merchant_texts
from tests import factories


@pytest.fixture
def bakery(merchant):
    """A points program: Croissant 50, Cake 200, rewards from 40 points."""
    factories.points_program(merchant.merchant, minimum_redemption_points=40)
    return merchant


def test_card_by_number_with_or_without_dashes(api, bakery, counter):
    card = factories.card(bakery.merchant, name="Anna Muller")
    points.earn_points(card, 600, context=counter)
    for number in (card.card_number, card.card_number.replace("-", "")):
        response = api.get(f"/cards/{number}")
        assert response.status_code == 200, response.json
        body = response.json
        assert body["number"] == card.card_number
        assert body["status"] == "active"
        assert body["points_balance"] == 60
        assert body["stamp_count"] == 0
        assert body["stamps_target"] is None
        assert body["customer"] == {"name": "Anna Muller", "language": None}
        assert [(r["kind"], r["name"], r["points_cost"]) for r in body["rewards"]] == [
            ("points", "Croissant", 50)]


def test_points_rewards_need_the_minimum_as_well_as_the_cost(api, merchant, counter):
    factories.points_program(merchant.merchant, rewards=(("Sticker", 10), ("Cake", 200)),
                             minimum_redemption_points=100)
    card = factories.card(merchant.merchant)
    points.earn_points(card, 500, context=counter)  # 50 points: the sticker's cost, not the minimum
    assert api.get(f"/cards/{card.card_number}").json["rewards"] == []
    points.earn_points(card, 600, context=counter)  # 110
    assert [r["name"] for r in api.get(f"/cards/{card.card_number}").json["rewards"]] == [
        "Sticker"]


def test_the_stamp_reward_is_offered_once_the_card_is_full(api, merchant, counter):
    factories.stamp_program(merchant.merchant, stamps_target=3, cooldown_minutes=0)
    card = factories.card(merchant.merchant)
    for _ in range(2):
        stamps.add_stamp(card, context=counter)
    body = api.get(f"/cards/{card.card_number}").json
    assert (body["stamp_count"], body["stamps_target"], body["rewards"]) == (2, 3, [])
    stamps.add_stamp(card, context=counter)
    body = api.get(f"/cards/{card.card_number}").json
    assert body["rewards"] == [{"id": None, "kind": "stamps", "name": "A free coffee",
                                "description": None, "points_cost": 0, "stamps_cost": 3}]


def test_a_stamp_reward_without_its_text_is_still_named(make_api, merchant, counter):
    """A program made without the reward's text (the services allow it; the owner's form
    does not) still answers a full card, naming the reward in the caller's language."""
    factories.hybrid_program(merchant.merchant, stamps_target=2)
    card = factories.card(merchant.merchant)
    stamps.add_stamp(card, quantity=2, context=counter)
    body = make_api(merchant, language="de").get(f"/cards/{card.card_number}").json
    assert [(r["kind"], r["name"]) for r in body["rewards"]] == [("stamps", "Stempelprämie")]


def test_a_turned_off_card_is_inactive_and_offers_nothing(api, bakery, counter):
    card = factories.card(bakery.merchant)
    points.earn_points(card, 600, context=counter)
    engine_cards.deactivate_card(card, context=counter)
    body = api.get(f"/cards/{card.card_number}").json
    assert (body["status"], body["rewards"]) == ("inactive", [])


def test_an_erased_customers_card_carries_no_personal_data(api, bakery):
    card = factories.card(bakery.merchant, name="Erin Erased", email="erin@example.com",
                          phone="+352621100009")
    my_data.erase(card)
    response = api.get(f"/cards/{card.card_number}")
    assert response.status_code == 200
    assert response.json["status"] == "closed"
    assert response.json["customer"] == {"name": None, "language": None}
    assert "Erin" not in response.get_data(as_text=True)
    assert api.get("/cards?query=erin@example.com").json == {"cards": []}


def test_the_customers_language_is_given(api, bakery):
    card = engine_cards.enroll_customer(bakery.merchant, name="Luc", email="luc@example.com",
                                        locale="lb")
    assert api.get(f"/cards/{card.card_number}").json["customer"]["language"] == "lb"


@pytest.mark.parametrize("query", [
    "{number}", "{digits}", "{spaced}", "{token}", "  {number}  ",
    "Anna@Example.com", "621 100 002", "+352 621 100 002", "00352621100002", "+352-621-100-002",
])
def test_lookup_by_what_a_till_has(api, bakery, query):
    card = factories.card(bakery.merchant, name="Anna", email="anna@example.com",
                          phone="+352621100002")
    factories.card(bakery.merchant, name="Other", email="other@example.com")
    digits = card.card_number.replace("-", "")
    text = query.format(number=card.card_number, digits=digits, token=card.qr_token,
                        spaced=" ".join(digits[i:i + 4] for i in range(0, 12, 4)))
    response = api.get("/cards", query_string={"query": text})
    assert response.status_code == 200, response.json
    assert [found["number"] for found in response.json["cards"]] == [card.card_number]


@pytest.mark.parametrize("query", ["nobody@example.com", "000000000000", "621 999 999",
                                   "Anna", "an", "x" * 254, "\u00e9\u00e9\u00e9"])
def test_lookup_finding_nothing_is_an_empty_list(api, bakery, query):
    factories.card(bakery.merchant, name="Anna", email="anna@example.com")
    response = api.get("/cards", query_string={"query": query})
    assert response.status_code == 200
    assert response.json == {"cards": []}


def test_a_name_is_not_a_lookup(api, bakery):
    """A key cannot list the shop's customers by fragments of their names."""
    factories.card(bakery.merchant, name="Anna Muller", email="anna@example.com")
    assert api.get("/cards?query=Anna Muller").json == {"cards": []}


@pytest.mark.parametrize("query_string", [{}, {"query": ""}, {"query": "x" * 255},
                                          {"query": "a@b.c", "page": "2"}])
def test_a_lookup_without_a_usable_query_is_422(api, bakery, query_string):
    response = api.get("/cards", query_string=query_string)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["errors"]


def test_a_missing_card_is_a_problem_404(api, bakery):
    for number in ("0000-0000-0000", "not-a-number", "1" * 40):
        response = api.get(f"/cards/{number}")
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
        assert response.json["type"] == "urn:loyalty:problem:card-not-found"


def test_another_merchants_card_is_not_found(api, bakery, other_merchant):
    factories.points_program(other_merchant.merchant)
    theirs = factories.card(other_merchant.merchant, email="theirs@example.com",
                            phone="+352621100077")
    assert api.get(f"/cards/{theirs.card_number}").status_code == 404
    assert api.get(f"/cards/{theirs.card_number}/transactions").status_code == 404
    for query in (theirs.card_number, theirs.qr_token, "theirs@example.com", "621 100 077"):
        assert api.get("/cards", query_string={"query": query}).json == {"cards": []}


def test_reading_cards_needs_the_cards_read_scope(make_api, bakery):
    card = factories.card(bakery.merchant)
    writer = make_api(bakery, scopes=("cards:write", "purchases"))
    for path in (f"/cards/{card.card_number}", "/cards?query=x",
                 f"/cards/{card.card_number}/transactions"):
        response = writer.get(path)
        assert response.status_code == 403
        assert "cards:read" in response.json["detail"]


def test_rewards_are_named_in_the_callers_language(make_api, merchant, counter):
    program = factories.points_program(merchant.merchant)
    croissant, cake = sorted(program.rewards, key=lambda reward: reward.points_cost)
    merchant_texts.save_texts(program, [croissant, cake], "fr", actor=None, program_texts={},
                              reward_texts={croissant.id: {"name": "Croissant au beurre"}})
    card = factories.card(merchant.merchant)
    points.earn_points(card, 2000, context=counter)
    french = make_api(merchant, language="fr")
    assert [r["name"] for r in french.get(f"/cards/{card.card_number}").json["rewards"]] == [
        "Croissant au beurre", "Cake"]
    english = make_api(merchant, language="en")
    assert [r["name"] for r in english.get(f"/cards/{card.card_number}").json["rewards"]] == [
        "Croissant", "Cake"]
