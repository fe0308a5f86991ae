"""The birthday on the join form and the card page, and the owner's birthday bonus page with its
email previewed in four languages."""
import json

import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import AuditEntry, Customer, LoyaltyCard, LoyaltyProgram
from tests import factories
from tests.conftest import csrf_token_from


def _join(client, **fields):
    token = csrf_token_from(client.get("/m/cafe-test/join"))
    data = {"csrf_token": token, "first_name": "Chloé", "last_name": "Muller",
            "email": "chloe@example.com", "phone": "", "language": "fr", "consent": "y",
            "website": "", **fields}
    return client.post("/m/cafe-test/join", data=data)


def _customer(email="chloe@example.com"):
    db.session.commit()
    return db.session.scalar(select(Customer).where(Customer.email == email))


@pytest.fixture
def birthday_program(merchant):
    return factories.points_program(merchant.merchant, birthday_bonus_points=50,
                                    birthday_days_ahead=3)


# --- joining -------------------------------------------------------------------------------

def test_the_join_form_asks_for_the_birthday_only_when_there_is_a_bonus(client, merchant):
    program = factories.points_program(merchant.merchant)
    page = client.get("/m/cafe-test/join").get_data(as_text=True)
    assert 'name="birth_day"' not in page
    program.birthday_bonus_points = 20
    db.session.commit()
    page = client.get("/m/cafe-test/join").get_data(as_text=True)
    assert 'name="birth_day"' in page and 'name="birth_month"' in page
    assert "we never ask for the year" in page
    assert 'name="birth_year"' not in page
    assert "Birthday bonus: 20 points for your birthday." in client.get("/m/cafe-test/").text


def test_joining_with_a_birthday_keeps_day_and_month(client, birthday_program):
    response = _join(client, birth_day="29", birth_month="2")
    assert response.status_code == 302
    customer = _customer()
    assert (customer.birth_day, customer.birth_month) == (29, 2)


def test_joining_without_a_birthday_is_fine(client, birthday_program):
    assert _join(client, birth_day="", birth_month="").status_code == 302
    assert (_customer().birth_day, _customer().birth_month) == (None, None)


@pytest.mark.parametrize(("day", "month", "message"), [
    ("31", "4", "This day does not exist in that month"),
    ("12", "", "Choose both the day and the month"),
    ("99", "1", "This day does not exist in that month"),
    ("<script>", "1", "This day does not exist in that month"),
    ("1", "13", "This day does not exist in that month"),
])
def test_a_bad_birthday_is_refused_with_a_message_and_keeps_what_was_typed(
        client, birthday_program, day, month, message):
    response = _join(client, birth_day=day, birth_month=month, first_name="Zoé")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'value="Zoé"' in page
    assert _customer() is None


def test_the_join_page_names_the_months_in_its_language(client, birthday_program):
    page = client.get("/m/cafe-test/join", headers={"Accept-Language": "lb"}).text
    assert "Mäerz" in page and "Gebuertsdag" in page


# --- the card page -------------------------------------------------------------------------

def _card_page_post(client, card, **data):
    token = csrf_token_from(client.get(f"/card/{card.page_secret}"))
    return client.post(f"/card/{card.page_secret}/birthday", data={"csrf_token": token, **data})


def test_the_card_page_sets_changes_and_removes_the_birthday(client, merchant, birthday_program):
    card = factories.card(merchant.merchant, "Carla", email="carla@example.com")
    db.session.commit()
    page = client.get(f"/card/{card.page_secret}").text
    assert 'id="birthday"' in page and "we never ask for the year" in page

    saved = _card_page_post(client, card, birth_day="14", birth_month="7")
    assert saved.status_code == 303 and "birthday=saved" in saved.location
    assert "Your birthday is saved." in client.get(saved.location).text
    customer = _customer("carla@example.com")
    assert (customer.birth_day, customer.birth_month) == (14, 7)
    page = client.get(f"/card/{card.page_secret}").text
    assert '<option selected value="14">' in page and '<option selected value="7">' in page

    assert _card_page_post(client, card, birth_day="1", birth_month="12").status_code == 303
    assert (_customer("carla@example.com").birth_month) == 12
    removed = _card_page_post(client, card, birth_day="1", birth_month="12", remove="Remove")
    assert removed.status_code == 303 and "birthday=removed" in removed.location
    assert (_customer("carla@example.com").birth_day) is None
    actions = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.action == "customer.birthday")).all()
    assert len(actions) == 3


def test_a_bad_birthday_on_the_card_page_is_said_and_kept(client, merchant, birthday_program):
    card = factories.card(merchant.merchant, "Carla", email="carla@example.com")
    db.session.commit()
    refused = _card_page_post(client, card, birth_day="30", birth_month="2")
    assert refused.status_code == 422
    page = refused.text
    assert "This day does not exist in that month" in page
    assert '<option selected value="30">' in page and '<option selected value="2">' in page
    assert card.card_number in page  # the card page itself, not an error page
    assert "Send me offers by email" in page  # the rest of the page is all there
    half = _card_page_post(client, card, birth_day="", birth_month="5")
    assert half.status_code == 422 and "Choose both the day and the month" in half.text
    no_token = client.post(f"/card/{card.page_secret}/birthday",
                           data={"birth_day": "1", "birth_month": "1"})
    assert no_token.status_code in (400, 422)
    assert _customer("carla@example.com").birth_day is None


def test_the_export_has_the_birthday_and_erasure_wipes_it(client, merchant, birthday_program):
    card = factories.card(merchant.merchant, "Carla", email="carla@example.com")
    db.session.commit()
    _card_page_post(client, card, birth_day="3", birth_month="9")
    exported = json.loads(client.get(f"/card/{card.page_secret}/my-data.json").data)
    assert exported["customer"]["birthday"] == {"day": 3, "month": 9}
    token = csrf_token_from(client.get(f"/card/{card.page_secret}/delete"))
    client.post(f"/card/{card.page_secret}/delete", data={"csrf_token": token, "confirm": "y"})
    db.session.commit()
    customer = db.session.get(Customer, card.customer_id)
    assert customer.erased_at is not None
    assert (customer.birth_day, customer.birth_month) == (None, None)


# --- the owner's page ----------------------------------------------------------------------

def test_the_owner_sets_the_bonus_and_sees_the_email_in_four_languages(client, auth, merchant):
    factories.hybrid_program(merchant.merchant)
    auth.login_as(merchant.owner)
    page = client.get("/merchant/birthday")
    assert page.status_code == 200
    assert 'href="/merchant/birthday"' in page.text  # in the navigation
    assert 'data-testid="birthday-off"' in page.text
    token = csrf_token_from(page)
    saved = client.post("/merchant/birthday", data={
        "csrf_token": token, "birthday_bonus_points": "75", "birthday_bonus_stamps": "2",
        "birthday_days_ahead": "7"})
    assert saved.status_code == 302
    db.session.commit()
    program = db.session.scalar(select(LoyaltyProgram))
    assert (program.birthday_bonus_points, program.birthday_bonus_stamps,
            program.birthday_days_ahead) == (75, 2, 7)
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "program.update"))
    assert audit.changes["birthday_bonus_points"] == [0, 75]

    page = client.get("/merchant/birthday").text
    assert 'data-testid="birthday-off"' not in page
    assert "A birthday gift from Café Test" in page
    assert "Un cadeau d’anniversaire de Café Test" in page or "anniversaire" in page
    assert "Geburtstag" in page and "Gebuertsdag" in page
    for code in ("en", "fr", "de", "lb"):
        assert f'data-testid="preview-{code}"' in page
        frame = client.get(f"/merchant/birthday/preview/{code}")
        assert frame.status_code == 200
        assert "sandbox" in frame.headers["Content-Security-Policy"]
        assert f'<html lang="{code}">' in frame.text
        assert "Alex" in frame.text
    assert "75 points" in client.get("/merchant/birthday/preview/en").text
    assert client.get("/merchant/birthday/preview/xx").status_code == 404


@pytest.mark.parametrize("value", ["-1", "31", "abc", "", "1" * 50])
def test_bad_days_ahead_are_refused_with_a_message(client, auth, merchant, value):
    factories.points_program(merchant.merchant)
    auth.login_as(merchant.owner)
    token = csrf_token_from(client.get("/merchant/birthday"))
    response = client.post("/merchant/birthday", data={
        "csrf_token": token, "birthday_bonus_points": "10", "birthday_bonus_stamps": "0",
        "birthday_days_ahead": value})
    assert response.status_code == 422
    assert "Enter days from 0 to 30." in response.text
    assert 'value="10"' in response.text  # what was typed stays
    db.session.commit()
    assert db.session.scalar(select(LoyaltyProgram.birthday_bonus_points)) == 0


def test_the_page_is_the_owners_and_their_merchants_only(client, auth, merchant, other_merchant):
    factories.points_program(merchant.merchant, birthday_bonus_points=10)
    factories.points_program(other_merchant.merchant, birthday_bonus_points=99)
    auth.login_as(merchant.manager)
    assert client.get("/merchant/birthday").status_code in (403, 404)
    assert client.get("/merchant/birthday/preview/en").status_code in (403, 404)
    auth.logout()
    auth.login_as(merchant.owner)
    page = client.get("/merchant/birthday").text
    assert 'value="10"' in page and "Other Bakery" not in page
    assert "Other Bakery" not in client.get("/merchant/birthday/preview/en").text
    db.session.commit()
    assert db.session.scalar(select(LoyaltyCard.id)) is None
