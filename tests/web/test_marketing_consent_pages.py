"""Offers by email on the customer's pages: a separate, unticked box when joining, and a
switch on the card page (a form with its CSRF token)."""
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import Customer, LoyaltyCard
from tests import factories
from tests.conftest import csrf_token_from


def _join(client, **fields):
    token = csrf_token_from(client.get("/m/cafe-test/join"))
    data = {"csrf_token": token, "first_name": "Chloé", "last_name": "Muller",
            "email": "chloe@example.com", "phone": "", "language": "en", "consent": "y",
            "website": "", **fields}
    return client.post("/m/cafe-test/join", data=data)


def _customer(email="chloe@example.com"):
    db.session.commit()
    return db.session.scalar(select(Customer).where(Customer.email == email))


def test_the_join_form_asks_separately_and_unticked(client, merchant):
    factories.stamp_program(merchant.merchant)
    page = client.get("/m/cafe-test/join").get_data(as_text=True)
    box = page[page.index('name="marketing_consent"') - 200:page.index('name="marketing_consent"') + 200]
    assert "Send me offers by email" in page and "checked" not in box
    assert "Each email has a link to stop them." in page

    assert _join(client).status_code == 302
    customer = _customer()
    assert customer.consent_at is not None  # the terms, accepted
    assert customer.marketing_consent_at is None and not customer.marketing_consent


def test_ticking_the_box_records_the_consent_from_the_join_form(client, merchant):
    factories.stamp_program(merchant.merchant)
    assert _join(client, marketing_consent="y").status_code == 302
    customer = _customer()
    assert customer.marketing_consent and customer.marketing_consent_source == "join"


def test_a_refused_join_keeps_the_box_as_ticked(client, merchant):
    factories.stamp_program(merchant.merchant)
    response = _join(client, marketing_consent="y", consent="")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    box = page[page.index('name="marketing_consent"') - 120:page.index('name="marketing_consent"') + 80]
    assert "checked" in box


def test_the_card_page_changes_the_choice_both_ways(client, merchant):
    factories.stamp_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Nora Card")
    db.session.commit()
    url = f"/card/{card.page_secret}"
    page = client.get(url)
    assert "Offers by email" in page.get_data(as_text=True)
    token = csrf_token_from(page)

    saved = client.post(f"{url}/offers", data={"csrf_token": token, "marketing_consent": "y"})
    assert saved.status_code == 303 and saved.location.endswith("offers=saved#offers")
    customer = db.session.get(Customer, card.customer_id, populate_existing=True)
    assert customer.marketing_consent and customer.marketing_consent_source == "card_page"
    shown = client.get(saved.location).get_data(as_text=True)
    assert "Your choice is saved." in shown
    box = shown[shown.index('name="marketing_consent"') - 120:shown.index('name="marketing_consent"') + 80]
    assert "checked" in box

    client.post(f"{url}/offers", data={"csrf_token": token})  # unticked: no
    customer = db.session.get(Customer, card.customer_id, populate_existing=True)
    assert not customer.marketing_consent and customer.marketing_unsubscribed_at is not None


def test_the_switch_needs_the_form_token_and_a_real_card(make_app, merchant):
    app = make_app(WTF_CSRF_ENABLED=True)
    factories.stamp_program(merchant.merchant)
    card = factories.card(merchant.merchant)
    db.session.commit()
    client = app.test_client()
    refused = client.post(f"/card/{card.page_secret}/offers", data={"marketing_consent": "y"})
    assert refused.status_code == 400
    assert not db.session.get(Customer, card.customer_id, populate_existing=True).marketing_consent
    assert client.post("/card/" + "x" * 40 + "/offers", data={}).status_code in (400, 404)
    altered = client.post(f"/card/{card.page_secret}/offers", data={
        "csrf_token": csrf_token_from(client.get(f"/card/{card.page_secret}")),
        "marketing_consent": "yes please"})
    assert altered.status_code == 400
    assert db.session.scalar(select(LoyaltyCard.id).where(LoyaltyCard.id == card.id))
