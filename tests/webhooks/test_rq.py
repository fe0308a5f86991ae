"""Webhooks on RQ with the real Redis: a change's deliveries go to the ``webhooks`` queue once
it commits, a worker of that queue sends them; the sweep of due retries is scheduled there."""
from rq import Queue
from sqlalchemy import select

from loyalty.extensions import db, redis_client
from loyalty.jobs import QUEUES, SCHEDULE
from loyalty.models import OutboxMessage, WebhookDelivery
from loyalty.services.integrations import webhooks
from tests import factories
from tests.jobs.conftest import redis_url, rq_app, work  # noqa: F401 - fixtures


def test_webhooks_go_to_their_own_queue_and_a_worker_sends_them(rq_app, receiver):  # noqa: F811
    merchant = factories.merchant_with_team("Café Hook", "cafe-hook").merchant
    factories.points_program(merchant)
    webhooks.create_endpoint(merchant.id, url=receiver.url, events=["card.enrolled"])
    card = factories.card(merchant)
    db.session.commit()
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "webhook"))
    assert row.queue == "webhooks" and row.enqueued_at is not None
    assert Queue("webhooks", connection=redis_client.connection).job_ids == [f"outbox-{row.id}"]
    assert receiver.received == []  # nothing is sent by the request itself

    work(rq_app, queues=["webhooks"])
    assert [event["data"]["card"]["number"] for event in receiver.events()] == [card.card_number]
    db.session.commit()
    assert db.session.scalar(select(WebhookDelivery.status)) == "delivered"


def test_the_worker_and_the_schedule_know_the_webhooks_queue():
    assert "webhooks" in QUEUES
    assert ("webhooks-due", "webhooks") in {(name, queue) for name, _f, queue, _e, _a in SCHEDULE}
