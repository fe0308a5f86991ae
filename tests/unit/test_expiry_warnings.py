"""Expiry warnings: once per period of inactivity, to customers with an email, in their
language, with their balance, the date and their card's link."""
import re
from datetime import UTC, datetime

from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import OutboxMessage, SentEmail
from loyalty.services.delivery.expiry_warnings import warn_expiring_points, warning_letter
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.points import earn_points, expire_points
from tests import factories


def emails():
    db.session.commit()
    return db.session.scalars(select(SentEmail).order_by(SentEmail.id)).all()


def _program(merchant, **fields):
    return factories.points_program(merchant, points_expiration_days=365,
                                    welcome_bonus_points=40, **fields)


def test_customers_close_to_expiry_are_warned_once_per_period(merchant, frozen_clock, client):
    frozen_clock.set(datetime(2026, 1, 10, 9, 0, tzinfo=UTC))
    _program(merchant.merchant)
    quiet = factories.card(merchant.merchant, "Quiet Quentin", email="quentin@example.com")
    no_email = factories.card(merchant.merchant, "Phone Only", email="", phone="+352621000111")
    frozen_clock.advance(days=300)
    recent = factories.card(merchant.merchant, "Recent Rita", email="rita@example.com")
    frozen_clock.advance(days=52)  # Quentin's points expire in 13 days, Rita's in 313

    assert warn_expiring_points() == 1
    assert warn_expiring_points() == 0  # once per period
    [sent] = emails()
    assert sent.to_address == "quentin@example.com" and sent.template == "expiry_warning"
    assert "You have 40 points on your Café Test card." in sent.body_text
    assert "They expire on 10 Jan 2027." in sent.body_text  # day first: a Luxembourg shop
    db.session.refresh(quiet)
    assert f"/card/{quiet.page_secret}" in sent.body_text
    assert f"/card/{quiet.page_secret}" in sent.body_html
    link = re.search(r"http://127\.0\.0\.1:5000(/card/\S+)", sent.body_text).group(1)
    card_page = client.get(link).get_data(as_text=True)  # the link opens the customer's card
    assert quiet.card_number in card_page and ">40<" in card_page
    assert no_email.id and recent.id

    # A visit starts a new period: the next quiet spell warns again, once.
    earn_points(quiet, 1000, context=ActionContext(store_id=merchant.stores[0].id))
    assert warn_expiring_points() == 0
    frozen_clock.advance(days=300)
    assert warn_expiring_points() == 1  # Rita's turn (352 days without a visit)
    frozen_clock.advance(days=55)
    assert warn_expiring_points() == 1  # Quentin again: 355 days since his last visit
    assert warn_expiring_points() == 0
    assert sorted(email.to_address for email in emails()) == [
        "quentin@example.com", "quentin@example.com", "rita@example.com"]


def test_the_warning_is_in_the_customers_language(merchant, frozen_clock):
    _program(merchant.merchant)
    card = factories.card(merchant.merchant, "Dieter Deutsch", email="dieter@example.com")
    card.customer.preferred_locale = "de"
    db.session.commit()
    frozen_clock.advance(days=360)
    assert warn_expiring_points() == 1
    [sent] = emails()
    assert sent.locale == "de"
    assert sent.subject == "Ihre Punkte bei Café Test verfallen bald"
    assert "Sie haben 40 Punkte auf Ihrer Karte von Café Test." in sent.body_text


def test_no_warning_once_points_expired_or_when_switched_off(merchant, other_merchant,
                                                            frozen_clock):
    _program(merchant.merchant)
    _program(other_merchant.merchant, expiry_warning_days=0)
    factories.card(merchant.merchant, "Late Larry", email="larry@example.com")
    factories.card(other_merchant.merchant, "Off Olga", email="olga@example.com")
    frozen_clock.advance(days=366)
    assert expire_points() == 2
    assert warn_expiring_points() == 0
    assert emails() == []


def test_a_card_used_after_the_warning_was_queued_gets_no_email(merchant, frozen_clock,
                                                                make_app):
    _program(merchant.merchant)
    card = factories.card(merchant.merchant, "Busy Bea", email="bea@example.com")
    frozen_clock.advance(days=360)
    app = make_app(JOBS_INLINE=False, REDIS_URL="redis://127.0.0.1:9/0")  # Redis down: waits
    with app.app_context():
        assert warn_expiring_points() == 1
        row = db.session.scalar(select(OutboxMessage))
        assert row.delivered_at is None
        earn_points(db.session.merge(card), 500,
                    context=ActionContext(store_id=merchant.stores[0].id))
        assert warning_letter(row.payload) is None  # composed when sent: no longer true
