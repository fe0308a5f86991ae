"""The schedule: RQ's cron scheduler drives the drain, each merchant's morning and the wallet
sync; a merchant's points expiry and warnings run once a day in their own early morning."""
from datetime import UTC, date, datetime

from rq import Queue
from rq.cron import CronScheduler
from sqlalchemy import select

from loyalty.extensions import db, redis_client
from loyalty.jobs import QUEUES, schedule
from loyalty.jobs.points import merchant_morning
from loyalty.models import SentEmail
from loyalty.services.delivery.mornings import mornings_due, start_due_mornings
from tests import factories
from tests.conftest import run_cli
from tests.jobs.conftest import work

SHOPS = [(1, "Europe/Luxembourg"), (2, "America/New_York"), (3, "Asia/Tokyo")]


def test_a_merchants_morning_comes_at_four_on_their_own_clock():
    # 02:30 UTC in November: 03:30 in Luxembourg, 21:30 the day before in New York, 11:30 in Tokyo
    assert mornings_due(datetime(2026, 11, 21, 2, 30, tzinfo=UTC), SHOPS, 4) == []
    # 03:05 UTC: 04:05 in Luxembourg
    assert mornings_due(datetime(2026, 11, 21, 3, 5, tzinfo=UTC), SHOPS, 4) == [
        (1, date(2026, 11, 21))]
    # 08:05 UTC: 09:05 in Luxembourg, still its morning (a missed hour catches up)
    assert mornings_due(datetime(2026, 11, 21, 8, 5, tzinfo=UTC), SHOPS, 4) == [
        (1, date(2026, 11, 21))]
    # 09:05 UTC: 04:05 in New York, past the morning in Luxembourg
    assert mornings_due(datetime(2026, 11, 21, 9, 5, tzinfo=UTC), SHOPS, 4) == [
        (2, date(2026, 11, 21))]
    # 19:05 UTC: 04:05 the next day in Tokyo; in summer Luxembourg's four o'clock is 02:00 UTC
    assert mornings_due(datetime(2026, 11, 21, 19, 5, tzinfo=UTC), SHOPS, 4) == [
        (3, date(2026, 11, 22))]
    assert mornings_due(datetime(2026, 7, 1, 2, 0, tzinfo=UTC), SHOPS[:1], 4) == [
        (1, date(2026, 7, 1))]
    assert mornings_due(datetime(2026, 7, 1, 1, 59, tzinfo=UTC), SHOPS[:1], 4) == []


def test_the_schedule_registers_the_drain_the_mornings_and_the_wallet_sync(rq_app):
    jobs = {job.name: job for job in schedule(CronScheduler(connection=redis_client.connection))
            .get_jobs()}
    assert jobs["drain-outbox"].interval == 5
    assert jobs["drain-outbox"].job_options["ttl"] == 60  # drains never pile up behind a long job
    assert jobs["mornings"].cron == "7 * * * *" and jobs["mornings"].queue_name == "default"
    assert jobs["wallet-sync"].queue_name == "wallet"
    assert jobs["webhooks-due"].interval == 30 and jobs["webhooks-due"].queue_name == "webhooks"
    assert set(QUEUES) == {"default", "email", "wallet", "webhooks"}


def test_each_merchants_morning_run_starts_once_a_day_and_expires_and_warns(rq_app,
                                                                           frozen_clock):
    frozen_clock.set(datetime(2025, 11, 1, 10, 0, tzinfo=UTC))
    shop = factories.merchant_with_team("Café Matin", "cafe-matin").merchant
    factories.points_program(shop, points_expiration_days=365, welcome_bonus_points=40)
    gone = factories.card(shop, "Gone Gina", email="gina@example.com")
    frozen_clock.set(datetime(2026, 10, 25, 10, 0, tzinfo=UTC))
    warned = factories.card(shop, "Near Nora", email="nora@example.com")
    frozen_clock.set(datetime(2027, 10, 15, 2, 30, tzinfo=UTC))  # 04:30 in Luxembourg
    db.session.commit()

    assert start_due_mornings(merchant_morning) == [shop.id]
    assert start_due_mornings(merchant_morning) == []  # once that day
    queue = Queue("default", connection=redis_client.connection)
    assert queue.job_ids == [f"morning-{shop.id}-2027-10-15"]
    work(rq_app)
    db.session.commit()
    db.session.refresh(gone)
    assert gone.points_balance == 0  # expired
    assert [email.to_address for email in db.session.scalars(select(SentEmail))] == [
        "nora@example.com"]
    assert warned.id

    result = run_cli(rq_app, "loyalty", "jobs")
    assert "Queue email    0 waiting" in result.output
    assert "Scheduled mornings" in result.output
    assert "Schedule: last tick never (stale: is `python worker.py cron` running?)" in \
        result.output


def test_the_next_run_of_each_kind_of_schedule():
    from datetime import UTC, datetime, timedelta

    from loyalty.services.platform.job_monitor import next_run

    now = datetime(2026, 11, 22, 10, 30, 5, tzinfo=UTC)
    assert next_run(5, now - timedelta(seconds=2), now) == now + timedelta(seconds=3)
    assert next_run(5, None, now) == now  # never ran: due now
    assert next_run("7 * * * *", None, now) == datetime(2026, 11, 22, 11, 7, tzinfo=UTC)
