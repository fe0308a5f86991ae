"""The fraud alert digest of each merchant's morning, run by the real RQ worker against Redis:
one email a day to the owners (every new alert) and managers (their stores' new alerts), in
each one's language, only when something is new; a morning run again sends nothing."""
from datetime import UTC, datetime, timedelta

from flask_babel import force_locale
from rq import Queue
from sqlalchemy import select

from loyalty.extensions import db, redis_client
from loyalty.jobs.points import merchant_morning
from loyalty.models import FraudAlert, Membership, SentEmail, User
from loyalty.services.delivery import alert_digest
from loyalty.services.engine import staff_pins
from loyalty.services.merchant import team as team_service
from loyalty.services.merchant.fraud_rules import RULES
from tests import factories
from tests.jobs.conftest import work

#: 05:00 in Luxembourg (winter): the merchant's morning.
MORNING = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


def morning(app, shop):
    db.session.commit()
    Queue("default", connection=redis_client.connection).enqueue(merchant_morning, shop.id)
    work(app)
    db.session.commit()


def digests():
    db.session.commit()
    return db.session.scalars(select(SentEmail).where(SentEmail.template == "alert_digest")
                              .order_by(SentEmail.id)).all()


def in_french(rule):
    with force_locale("fr"):
        return str(RULES[rule].label)


def team(frozen_clock):
    frozen_clock.set(MORNING - timedelta(days=1))
    shop = factories.merchant_with_team("Café Alerte", "cafe-alerte")
    factories.stamp_program(shop.merchant)
    owner = db.session.get(User, shop.owner.id)
    owner.preferred_locale = "fr"
    db.session.commit()
    return shop


def test_nothing_new_sends_nothing(rq_app, frozen_clock):
    shop = team(frozen_clock)
    factories.fraud_alert(shop.merchant, store=shop.stores[0], reviewed=True,
                          created_at=MORNING - timedelta(days=3))
    db.session.execute(FraudAlert.__table__.update().values(digested_at=MORNING - timedelta(
        days=3)))
    frozen_clock.set(MORNING)
    morning(rq_app, shop.merchant)
    assert digests() == []


def test_once_a_day_with_only_the_new_alerts_to_each_reader(rq_app, frozen_clock):
    shop = team(frozen_clock)
    gare, ville = shop.stores
    pin = staff_pins.create_staff_pin(shop.merchant, gare, "Paula Pin", "4321")
    card = factories.card(shop.merchant, "Carla Counter", store=gare)
    factories.fraud_alert(shop.merchant, store=gare, staff_pin=pin, cards=[card],
                          created_at=MORNING - timedelta(hours=10))
    factories.fraud_alert(shop.merchant, store=ville, rule="card_day", user=shop.staff,
                          created_at=MORNING - timedelta(hours=9))

    frozen_clock.set(MORNING)
    morning(rq_app, shop.merchant)
    sent = {email.to_address: email for email in digests()}
    assert set(sent) == {shop.owner.email, shop.manager.email}  # not the staff member
    owners, managers = sent[shop.owner.email], sent[shop.manager.email]
    assert owners.locale == "fr" and managers.locale == "en"  # theirs, else the shop's
    assert owners.subject == "2 nouvelles alertes chez Café Alerte"
    assert in_french("staff_hour") in owners.body_text
    assert "Paula Pin" in owners.body_text and ville.name in owners.body_text
    assert "/merchant/alerts" in owners.body_text and "/merchant/alerts" in owners.body_html
    assert "unsubscribe" not in owners.body_text.lower()  # transactional
    assert managers.subject == "1 new fraud alert at Café Alerte"
    assert gare.name in managers.body_text and "Paula Pin" in managers.body_text
    assert ville.name not in managers.body_text  # another store's alert is not theirs
    db.session.expire_all()
    assert all(alert.digested_at == MORNING for alert in db.session.scalars(select(FraudAlert)))

    morning(rq_app, shop.merchant)  # the same morning again
    assert len(digests()) == 2

    # Raised later that day: it waits for tomorrow's digest, even if the morning runs again.
    frozen_clock.set(MORNING + timedelta(hours=5))
    factories.fraud_alert(shop.merchant, store=ville, rule="off_hours", observed=23,
                          threshold=22)
    morning(rq_app, shop.merchant)
    assert len(digests()) == 2

    frozen_clock.set(MORNING + timedelta(days=1))
    morning(rq_app, shop.merchant)
    new = digests()[2:]
    assert [email.to_address for email in new] == [shop.owner.email]  # nothing at the gare
    assert new[0].subject == "1 nouvelle alerte chez Café Alerte"
    assert in_french("off_hours") in new[0].body_text
    assert "Paula Pin" not in new[0].body_text  # only what is new

    frozen_clock.set(MORNING + timedelta(days=2))
    morning(rq_app, shop.merchant)  # nothing new since
    assert len(digests()) == 3


def test_no_digest_for_someone_who_left_the_team_meanwhile(app, frozen_clock):
    """The email is written when sent: a manager removed since the morning gets none."""
    shop = team(frozen_clock)
    alert = factories.fraud_alert(shop.merchant, store=shop.stores[0])
    payload = {"user_id": shop.manager.id, "alert_ids": [alert.id], "count": 1}
    letter = alert_digest.digest_letter(payload)
    assert letter.to == shop.manager.email and letter.context["alerts"][0]["store"] == (
        shop.stores[0].name)
    membership = db.session.scalar(select(Membership).where(
        Membership.user_id == shop.manager.id))
    team_service.remove(membership)
    db.session.expire_all()
    assert alert_digest.digest_letter(payload) is None


def test_alerts_reviewed_before_the_digest_are_neither_listed_nor_counted(rq_app, frozen_clock):
    shop = team(frozen_clock)
    gare, ville = shop.stores
    factories.fraud_alert(shop.merchant, store=gare, reviewed=True,
                          created_at=MORNING - timedelta(hours=10))
    frozen_clock.set(MORNING)
    morning(rq_app, shop.merchant)
    assert digests() == []  # nothing open: no email
    db.session.expire_all()
    assert all(alert.digested_at == MORNING for alert in db.session.scalars(select(FraudAlert)))

    frozen_clock.set(MORNING + timedelta(hours=5))
    factories.fraud_alert(shop.merchant, store=gare, reviewed=True)
    factories.fraud_alert(shop.merchant, store=ville, rule="off_hours", observed=23,
                          threshold=22)
    frozen_clock.set(MORNING + timedelta(days=1))
    morning(rq_app, shop.merchant)
    [sent] = digests()  # the owner's only: the manager's store has nothing open
    assert sent.to_address == shop.owner.email
    assert sent.subject == "1 nouvelle alerte chez Café Alerte"
    assert in_french("off_hours") in sent.body_text and in_french("staff_hour") not in (
        sent.body_text)
