"""One-click unsubscribe from offers by email: the link works without signing in, once and
again; the sent message carries RFC 8058's headers; transactional email still goes."""
from sqlalchemy import select

from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import AuditEntry, Customer, LoyaltyCard, OutboxMessage, SentEmail
from loyalty.services.customers import enrollment
from loyalty.services.delivery import mail, marketing, win_back
from loyalty.services.engine import points
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.merchant import programs
from tests import factories
from tests.jobs.conftest import inbox  # noqa: F401, F811 - a real SMTP server (fixture)


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


def test_a_language_the_reader_picked_wins_over_the_customers_own(app, merchant):
    factories.stamp_program(merchant.merchant)
    card = consenting_card(merchant, locale="fr")
    url = f"/unsubscribe/{marketing.unsubscribe_token(card.customer_id)}"
    client = app.test_client()
    client.set_cookie("lang", "de")  # they chose German on the site before
    page = client.get(url).get_data(as_text=True)
    assert "Abmelden" in page and "Se désabonner" not in page


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


def _win_back_shop(merchant):
    program = factories.points_program(merchant.merchant)
    programs.update_program(program, winback_enabled=True, winback_inactive_days=30,
                            winback_bonus_points=0)


def test_the_sent_message_carries_both_headers_and_the_link_works_without_signing_in(
        make_app, inbox, frozen_clock):  # noqa: F811 - the fixture imported above
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=inbox.port, SMTP_SECURITY="none",
                   PUBLIC_BASE_URL="https://loyalty.example")
    with app.app_context():
        merchant = factories.merchant_with_team("Café Mail", "cafe-mail")
        _win_back_shop(merchant)
        card = consenting_card(merchant, locale="de")
        frozen_clock.advance(days=31)
        win_back.win_back_morning(merchant.merchant.id)
        [message] = inbox.messages
        assert message["To"] == card.customer.email
        assert message["Subject"] == "Wir vermissen Sie bei Café Mail"
        url = f"https://loyalty.example/unsubscribe/{marketing.unsubscribe_token(card.customer_id)}"
        assert message["List-Unsubscribe"].strip() == f"<{url}>"  # folded: a long line
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        parts = {part.get_content_type(): part.get_content()
                 for part in message.walk() if not part.is_multipart()}
        assert url in parts["text/plain"] and url in parts["text/html"]
        assert "Angebote per E-Mail abbestellen" in parts["text/plain"]

        # What a mail program does on "unsubscribe": POST the body RFC 8058 names, no cookie.
        path = url.removeprefix("https://loyalty.example")
        response = app.test_client(use_cookies=False).post(
            path, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
        assert "Sie sind abgemeldet" in response.get_data(as_text=True)
        customer = db.session.get(Customer, card.customer_id, populate_existing=True)
        assert not customer.marketing_consent

        # Transactional email still goes; the next quiet spell brings no offer.
        enrollment.resend_card_link(merchant.merchant, customer.email)
        assert [m["To"] for m in inbox.messages] == [customer.email, customer.email]
        assert "Wir vermissen" not in inbox.messages[1]["Subject"]
        points.earn_points(db.session.get(LoyaltyCard, card.id), 500, context=ActionContext())
        frozen_clock.advance(days=31)
        win_back.win_back_morning(merchant.merchant.id)
        assert len(inbox.messages) == 2


def test_an_offer_is_dropped_if_its_customer_unsubscribed_before_it_went(app, merchant,
                                                                         frozen_clock):
    _win_back_shop(merchant)
    card = consenting_card(merchant)
    frozen_clock.advance(days=31)
    with write_transaction():  # queued in the morning, sent later
        mail.queue_email("win_back", merchant_id=merchant.merchant.id, card_id=card.id)
        db.session.get(LoyaltyCard, card.id).winback_sent_for = db.session.get(
            LoyaltyCard, card.id).last_activity_at
        marketing.record_consent(db.session.get(Customer, card.customer_id), False,
                                 source="unsubscribe")
    db.session.commit()
    assert db.session.scalars(select(SentEmail).where(SentEmail.template == "win_back")).all() == []
    [row] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email"))
    assert row.delivered_at is not None and row.payload["skipped"] is True
