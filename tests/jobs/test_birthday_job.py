"""The birthday bonus through the real worker: the hourly job starts the merchant's morning on
RQ, the morning grants the bonus and queues the email, the email queue sends it by SMTP, once,
in the customer's language, with its one-click unsubscribe; never to someone without consent,
never to an erased customer, and nothing more when the morning runs again."""
from datetime import UTC, datetime

import pytest
from rq import Queue
from sqlalchemy import select

from loyalty.database import write_transaction
from loyalty.extensions import db, redis_client
from loyalty.jobs.points import merchant_morning
from loyalty.models import Customer, LoyaltyTransaction, SentEmail, TransactionType
from loyalty.services.customers import birthdays, my_data
from loyalty.services.delivery import marketing
from loyalty.services.delivery.mornings import start_due_mornings
from loyalty.services.engine.ledger import ledger_drift
from tests import factories
from tests.jobs.conftest import work


@pytest.fixture
def mail_app(make_app, redis_url, inbox):
    """Jobs on RQ, emails to a real SMTP server."""
    app = make_app(REDIS_URL=redis_url, JOBS_INLINE=False, JOB_RETRY_DELAYS=[0, 0],
                   SMTP_HOST="127.0.0.1", SMTP_PORT=inbox.port, SMTP_SECURITY="none")
    with app.app_context():
        yield app


def _customer(shop, name, email, *, locale, offers, birthday=(12, 9)):
    card = factories.card(shop, name, email=email)
    birthdays.change_birthday(card, *birthday)
    with write_transaction():
        customer = db.session.get(Customer, card.customer_id)
        customer.preferred_locale = locale
        if offers:
            marketing.record_consent(customer, True, source="join")
    return card


def _bonus_rows():
    db.session.commit()
    return db.session.scalars(select(LoyaltyTransaction).where(
        LoyaltyTransaction.transaction_type == TransactionType.BIRTHDAY_BONUS)
        .order_by(LoyaltyTransaction.card_id)).all()


def test_the_morning_grants_once_and_emails_only_those_who_consented(mail_app, inbox,
                                                                     frozen_clock):
    frozen_clock.set(datetime(2026, 8, 1, 10, 0, tzinfo=UTC))
    shop = factories.merchant_with_team("Café Gebuertsdag", "cafe-gebuertsdag").merchant
    factories.points_program(shop, birthday_bonus_points=30, birthday_days_ahead=2)
    french = _customer(shop, "Camille", "camille@example.com", locale="fr", offers=True)
    german = _customer(shop, "Greta", "greta@example.com", locale="de", offers=True,
                       birthday=(20, 9))  # not this week
    silent = _customer(shop, "Sam", "sam@example.com", locale="en", offers=False)
    erased = _customer(shop, "Erin", "erin@example.com", locale="en", offers=True)
    my_data.erase(erased)
    db.session.commit()

    # 10 September, 04:30 in Luxembourg (summer time): two days before the 12th
    frozen_clock.set(datetime(2026, 9, 10, 2, 30, tzinfo=UTC))
    assert start_due_mornings(merchant_morning) == [shop.id]
    work(mail_app)

    assert [row.card_id for row in _bonus_rows()] == [french.id, silent.id]
    assert [row.points_delta for row in _bonus_rows()] == [30, 30]
    [message] = inbox.messages
    assert message["To"] == "camille@example.com"
    assert message["Subject"] == "Un cadeau d'anniversaire de Café Gebuertsdag"
    assert message["List-Unsubscribe"].strip().startswith("<http") and "/unsubscribe/" in \
        message["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content()
    assert "Joyeux anniversaire, Camille !" in text and "30 points" in text
    [sent] = db.session.scalars(select(SentEmail).where(SentEmail.template == "birthday")).all()
    assert (sent.locale, sent.transport) == ("fr", "smtp")

    # The morning run again (a retry, a second worker): nothing more given or sent.
    Queue("default", connection=redis_client.connection).enqueue(merchant_morning, shop.id)
    work(mail_app)
    # The next mornings: the birthday itself and after it, still nothing more this year.
    for day in (11, 12, 13):
        frozen_clock.set(datetime(2026, 9, day, 2, 30, tzinfo=UTC))
        assert start_due_mornings(merchant_morning) == [shop.id]
        work(mail_app)
    assert len(_bonus_rows()) == 2 and len(inbox.messages) == 1
    assert ledger_drift() == []
    assert german.id


def test_an_unsubscribe_after_the_grant_stops_the_email_not_the_bonus(mail_app, inbox,
                                                                      frozen_clock):
    frozen_clock.set(datetime(2026, 8, 1, 10, 0, tzinfo=UTC))
    shop = factories.merchant_with_team("Bäckerei", "baeckerei").merchant
    factories.stamp_program(shop, birthday_bonus_stamps=2)
    card = _customer(shop, "Uma", "uma@example.com", locale="lb", offers=True)
    frozen_clock.set(datetime(2026, 9, 12, 2, 30, tzinfo=UTC))
    assert start_due_mornings(merchant_morning) == [shop.id]
    work(mail_app, queues=["default"])  # granted, the email waits on its queue
    marketing.unsubscribe(marketing.unsubscribe_token(card.customer_id))
    work(mail_app)
    [row] = _bonus_rows()
    assert row.stamps_delta == 2
    assert inbox.messages == []
