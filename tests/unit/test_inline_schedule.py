"""Without Redis the web process runs the schedule itself (``make run``): the outbox is drained
and each merchant's morning comes on time. Ticked here with the clock moved, not waited for."""
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from loyalty.extensions import db
from loyalty.jobs import inline_schedule
from loyalty.jobs.inline_schedule import InlineSchedule
from loyalty.models import OutboxMessage, SentEmail
from loyalty.services.delivery import mornings
from loyalty.services.merchant import team
from tests import factories


def sent_to():
    db.session.commit()
    return [email.to_address for email in db.session.scalars(select(SentEmail)
                                                             .order_by(SentEmail.id))]


def test_the_drain_runs_at_once_and_every_five_seconds_and_delivers_what_waits(
        app, merchant, frozen_clock):
    team.invite(merchant.merchant, email="zoe@example.com", name="Zoé", role="store_staff",
                store=merchant.stores[0])
    payload = db.session.scalar(select(OutboxMessage.payload))
    # An email whose delivery did not happen at its commit (the process stopped just then).
    db.session.add(OutboxMessage(kind="email", queue="email", merchant_id=merchant.id,
                                 payload=payload))
    db.session.commit()
    schedule = InlineSchedule(app)
    now = frozen_clock.now

    assert schedule.tick(now) == ["drain-outbox", "webhooks-due"]
    assert len(sent_to()) == 2
    assert db.session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.delivered_at.is_(None))) is None
    assert schedule.tick(now + timedelta(seconds=4)) == []
    assert schedule.tick(now + timedelta(seconds=5)) == ["drain-outbox"]


def test_each_merchants_morning_expires_and_warns_once_at_its_hour(app, frozen_clock,
                                                                   monkeypatch):
    monkeypatch.setattr(mornings, "_ran_inline", set())
    frozen_clock.set(datetime(2025, 11, 1, 10, 0, tzinfo=UTC))
    shop = factories.merchant_with_team("Café Matin", "cafe-matin").merchant
    factories.points_program(shop, points_expiration_days=365, welcome_bonus_points=40)
    gone = factories.card(shop, "Gone Gina", email="gina@example.com")
    frozen_clock.set(datetime(2026, 10, 25, 10, 0, tzinfo=UTC))
    factories.card(shop, "Near Nora", email="nora@example.com")
    emails_before = sent_to()

    schedule = InlineSchedule(app)
    frozen_clock.set(datetime(2027, 10, 15, 1, 30, tzinfo=UTC))  # 03:30 in Luxembourg
    assert "mornings" not in schedule.tick(frozen_clock.now)
    frozen_clock.set(datetime(2027, 10, 15, 2, 7, tzinfo=UTC))  # 04:07: its morning
    assert "mornings" in schedule.tick(frozen_clock.now)
    db.session.commit()  # the test's own snapshot ends: it reads what the run wrote
    db.session.refresh(gone)
    assert gone.points_balance == 0  # expired
    assert sent_to()[len(emails_before):] == ["nora@example.com"]  # warned

    frozen_clock.set(datetime(2027, 10, 15, 3, 7, tzinfo=UTC))  # the next hour: once a day
    assert "mornings" in schedule.tick(frozen_clock.now)
    assert sent_to()[len(emails_before):] == ["nora@example.com"]


def test_a_failing_job_is_logged_and_the_others_still_run(app, caplog):
    ran = []

    def broken():
        raise RuntimeError("boom")

    schedule = InlineSchedule(app, schedule=(("broken", broken, "default", 5, ""),
                                             ("fine", lambda: ran.append(1), "default", 5, "")))
    now = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
    assert schedule.tick(now) == ["broken", "fine"]
    assert ran == [1] and "Scheduled job broken failed" in caplog.text
    assert schedule.tick(now + timedelta(seconds=5)) == ["broken", "fine"]


def test_no_thread_when_redis_runs_the_schedule(make_app):
    assert inline_schedule.start(make_app(JOBS_INLINE=False)) is None
