"""One-click unsubscribe from offers by email: the link works without signing in, once and
again; the sent message carries RFC 8058's headers; transactional email still goes."""
from sqlalchemy import select

from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import AuditEntry, Customer
from loyalty.services.delivery import marketing
from tests import factories


def consenting_card(merchant, locale=None):
    card = factories.card(merchant.merchant, "Nora Offers")
    with write_transaction():
        customer = db.session.get(Customer, card.customer_id)
        customer.preferred_locale = locale
        marketing.record_consent(customer, True, source="join")
    return card


def test_the_link_unsubscribes_once_and_says_so_again(app, merchant):
    factories.stamp_program(merchant.merchant)
    card = consenting_card(merchant, locale="fr")
    url = f"/unsubscribe/{marketing.unsubscribe_token(card.customer_id)}"
    client = app.test_client()

    page = client.get(url)
    assert page.status_code == 200
    assert "Se désabonner" in page.get_data(as_text=True)  # in the customer's language

    done = client.post(url)
    assert done.status_code == 200
    assert "Désabonnement confirmé" in done.get_data(as_text=True)
    customer = db.session.get(Customer, card.customer_id, populate_existing=True)
    assert customer.marketing_unsubscribed_at is not None and not customer.marketing_consent
    assert customer.marketing_consent_source == "unsubscribe"

    again = client.post(url)
    assert again.status_code == 200
    assert "déjà enregistré" in again.get_data(as_text=True)
    assert "déjà enregistré" in client.get(url).get_data(as_text=True)
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "customer.marketing_consent")).all()
    assert [entry.changes["marketing_consent"] for entry in entries] == [[False, True],
                                                                        [True, False]]


def test_one_click_post_needs_no_cookie_nor_csrf_token(make_app, merchant):
    app = make_app(WTF_CSRF_ENABLED=True)
    factories.stamp_program(merchant.merchant)
    card = consenting_card(merchant)
    response = app.test_client(use_cookies=False).post(
        f"/unsubscribe/{marketing.unsubscribe_token(card.customer_id)}",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert not db.session.get(Customer, card.customer_id, populate_existing=True).marketing_consent


def test_a_bad_or_unknown_token_is_not_found_with_a_message(client, merchant):
    unknown = marketing.unsubscribe_token(987654)
    for url in ("/unsubscribe/nonsense", f"/unsubscribe/{unknown}",
                f"/unsubscribe/{unknown[:-2]}xx"):
        for response in (client.get(url), client.post(url)):
            assert response.status_code == 404
            assert "This unsubscribe link is not valid" in response.get_data(as_text=True)
