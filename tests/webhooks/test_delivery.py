"""Webhooks as a receiver sees them: signed, once each, a card's in order, retried, and an
endpoint that fails for days switched off (its owner emailed)."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from standardwebhooks.webhooks import Webhook

from loyalty.extensions import db
from loyalty.jobs.pruning import prune_old_rows
from loyalty.jobs.webhooks import send_due_webhooks
from loyalty.models import (
    LoyaltyProgram,
    OutboxMessage,
    SentEmail,
    WebhookDelivery,
    WebhookEndpoint,
)
from loyalty.services.customers import my_data
from loyalty.services.engine import cards, points
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.integrations import webhook_sending, webhooks
from loyalty.services.outbox import drain
from tests import factories

COUNTER = ActionContext()


def _earn(card, cents, reference=None):
    return points.earn_points(card, cents, context=COUNTER, order_reference=reference)


def _statuses():
    db.session.commit()
    return db.session.execute(select(WebhookDelivery.event_type, WebhookDelivery.status)
                              .order_by(WebhookDelivery.id)).all()


def test_each_event_arrives_signed_and_verifies_with_the_published_scheme(hook, receiver,
                                                                         points_shop):
    _endpoint, secret = hook
    card = factories.card(points_shop.merchant, "Vera Verify", email="vera@example.com")
    _earn(card, 1250, "ORDER-1")

    assert [event["type"] for event in receiver.events()] == ["card.enrolled", "points.earned"]
    for headers, body in receiver.received:
        assert Webhook(secret).verify(body, headers)["type"]  # raises if the signature is wrong
        assert headers["webhook-id"].startswith("msg_")
    earned = receiver.events()[1]["data"]
    assert earned["merchant"] == "cafe-test"
    assert earned["card"]["number"] == card.card_number
    assert earned["card"]["points_balance"] == 125
    assert earned["transaction"]["points_delta"] == 125
    assert earned["transaction"]["order_reference"] == "ORDER-1"
    assert earned["customer"]["email"] == "vera@example.com"
    with pytest.raises(Exception, match="signature"):
        Webhook(webhook_sending.new_secret()).verify(receiver.received[0][1],
                                                     receiver.received[0][0])


def test_only_the_events_an_endpoint_picked_are_sent(points_shop, receiver):
    webhooks.create_endpoint(points_shop.id, url=receiver.url, events=["points.earned"])
    card = factories.card(points_shop.merchant)
    _earn(card, 500)
    assert [event["type"] for event in receiver.events()] == ["points.earned"]


def test_a_merchant_without_endpoints_gets_no_webhook_rows(points_shop, other_merchant,
                                                          receiver):
    factories.points_program(other_merchant.merchant)
    webhooks.create_endpoint(other_merchant.id, url=receiver.url, events=list(webhooks.EVENTS))
    card = factories.card(points_shop.merchant)
    _earn(card, 900)
    db.session.commit()
    assert db.session.scalar(select(func.count(WebhookDelivery.id))) == 0
    assert db.session.scalar(select(func.count(OutboxMessage.id))
                             .where(OutboxMessage.kind == "webhook")) == 0
    assert receiver.received == []


def test_a_500_is_retried_later_and_then_delivered(hook, receiver, points_shop, frozen_clock):
    card = factories.card(points_shop.merchant)
    receiver.answers = [500]
    _earn(card, 700)
    assert _statuses()[-1] == ("points.earned", "pending")
    delivery = db.session.scalar(select(WebhookDelivery).order_by(WebhookDelivery.id.desc()))
    assert (delivery.attempts, delivery.response_code) == (1, 500)

    assert webhook_sending.send_due() == 0  # not due yet: a minute later
    frozen_clock.advance(minutes=1, seconds=1)
    assert webhook_sending.send_due() == 1
    assert _statuses()[-1] == ("points.earned", "delivered")
    earned = [event for event in receiver.events() if event["type"] == "points.earned"]
    assert len(earned) == 2 and earned[0] == earned[1]  # the same event, tried twice
    ids = {headers["webhook-id"] for headers, _body in receiver.received[-2:]}
    assert len(ids) == 1  # the same webhook-id: the receiver can drop a repeat


def test_a_receiver_down_then_back_gets_each_event_once_in_order_per_card(
        hook, receiver, points_shop, frozen_clock):
    receiver.stop()
    first, second = factories.card(points_shop.merchant), factories.card(points_shop.merchant)
    for amount in (100, 200, 300):
        _earn(first, amount)
        _earn(second, amount + 5)
    frozen_clock.advance(minutes=30)
    webhook_sending.send_due()  # still down
    assert receiver.received == []

    receiver.start()  # the same port answers again
    for _ in range(8):  # the retries as they come due
        frozen_clock.advance(hours=2)
        webhook_sending.send_due()
    events = receiver.events()
    for card, amounts in ((first, [100, 200, 300]), (second, [105, 205, 305])):
        mine = [event for event in events if event["data"]["card"]["number"] == card.card_number]
        assert [event["type"] for event in mine] == ["card.enrolled"] + ["points.earned"] * 3
        assert [event["data"]["transaction"]["points_delta"] for event in mine[1:]] == \
            [amount // 10 for amount in amounts]
    assert len(events) == 8
    assert {status for _type, status in _statuses()} == {"delivered"}


def test_a_later_event_waits_while_an_earlier_one_is_retried(hook, receiver, points_shop,
                                                            frozen_clock):
    card = factories.card(points_shop.merchant)
    receiver.answers = [503]
    _earn(card, 100)
    _earn(card, 200)  # the receiver answers now, but the first is still waiting
    assert [event["data"]["transaction"]["points_delta"] for event in receiver.events()
            if event["type"] == "points.earned"] == [10]
    frozen_clock.advance(minutes=2)
    webhook_sending.send_due()
    earned = [event["data"]["transaction"]["points_delta"] for event in receiver.events()
              if event["type"] == "points.earned"]
    assert earned == [10, 10, 20]


def test_retries_stop_after_about_a_day_then_the_delivery_is_failed(hook, receiver,
                                                                   points_shop, frozen_clock):
    card = factories.card(points_shop.merchant)
    receiver.answers = [500] * 50
    _earn(card, 100)
    for delay in webhook_sending.RETRY_DELAYS:
        frozen_clock.advance(seconds=delay)
        assert webhook_sending.send_due() == 0
    delivery = db.session.scalar(select(WebhookDelivery)
                                 .where(WebhookDelivery.event_type == "points.earned"))
    assert delivery.status == "failed"
    assert delivery.attempts == 1 + len(webhook_sending.RETRY_DELAYS)
    assert delivery.last_attempt_at - delivery.created_at < timedelta(hours=24)


def test_an_endpoint_failing_for_days_is_switched_off_and_its_owner_emailed(
        hook, receiver, points_shop, frozen_clock):
    endpoint, _secret = hook
    receiver.stop()
    card = factories.card(points_shop.merchant)
    for _day in range(4):
        _earn(card, 100)
        for _ in range(9):
            frozen_clock.advance(hours=3)
            webhook_sending.send_due()
    db.session.commit()
    endpoint = db.session.get(WebhookEndpoint, endpoint.id, populate_existing=True)
    assert endpoint.disabled_at is not None
    email = db.session.scalar(select(SentEmail).where(SentEmail.template == "webhook_disabled"))
    assert email.to_address == points_shop.owner.email
    assert endpoint.url in email.subject
    assert db.session.scalar(select(func.count(WebhookDelivery.id))
                             .where(WebhookDelivery.status == "pending")) == 0

    receiver.start()
    _earn(card, 100)  # nothing more is written nor sent for it
    drain()
    assert receiver.received == []


def test_an_erased_customers_events_carry_no_personal_data(hook, receiver, points_shop):
    card = factories.card(points_shop.merchant, "Erin Erased", email="erin@example.com",
                          phone="+352621000111")
    _earn(card, 400)
    receiver.stop()  # what waits is sent after the erasure: without their details either
    _earn(card, 500)
    my_data.erase(card)
    receiver.start()
    for delivery_id in db.session.scalars(select(WebhookDelivery.id)
                                          .where(WebhookDelivery.status == "pending")).all():
        db.session.execute(WebhookDelivery.__table__.update()
                           .where(WebhookDelivery.id == delivery_id)
                           .values(next_attempt_at=WebhookDelivery.created_at))
    db.session.commit()
    webhook_sending.send_due()

    events = receiver.events()
    assert events[-1]["type"] == "card.erased"
    after = events[2:]
    assert after and all(event["data"]["customer"] is None for event in after)
    for _headers, body in receiver.received[2:]:
        for personal in (b"Erin", b"erin@example.com", b"621000111"):
            assert personal not in body
    assert events[0]["data"]["customer"]["name"] == "Erin Erased"  # sent before the erasure


def test_expired_points_are_sent_per_card(hook, receiver, points_shop, frozen_clock):
    card = factories.card(points_shop.merchant)
    _earn(card, 1000)
    db.session.execute(update(LoyaltyProgram).where(LoyaltyProgram.merchant_id == points_shop.id)
                       .values(points_expiration_days=30))
    db.session.commit()
    frozen_clock.advance(days=31)
    assert points.expire_points() == 1
    expired = [event for event in receiver.events() if event["type"] == "points.expired"]
    assert len(expired) == 1
    assert expired[0]["data"]["card"]["number"] == card.card_number
    assert expired[0]["data"]["transaction"]["points_delta"] == -100
    assert expired[0]["data"]["card"]["points_balance"] == 0


def test_deactivation_is_a_card_update(hook, receiver, points_shop):
    card = factories.card(points_shop.merchant)
    cards.deactivate_card(card, reason="lost")
    updated = receiver.events()[-1]
    assert updated["type"] == "card.updated"
    assert updated["data"]["card"]["active"] is False
    assert updated["data"]["transaction"]["type"] == "card_deactivated"


def test_senders_at_once_still_send_each_event_once_in_order(app, hook, receiver, points_shop,
                                                            frozen_clock):
    card = factories.card(points_shop.merchant)
    receiver.stop()
    for amount in range(100, 1100, 100):
        _earn(card, amount)
    frozen_clock.advance(hours=1)
    receiver.start()
    db.session.commit()

    def sweep():
        with app.app_context():
            webhook_sending.send_due()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    earned = [event["data"]["transaction"]["points_delta"] for event in receiver.events()
              if event["type"] == "points.earned"]
    assert earned == list(range(10, 110, 10))


def test_done_deliveries_are_forgotten_after_a_month(hook, receiver, points_shop, frozen_clock):
    card = factories.card(points_shop.merchant)
    frozen_clock.advance(days=29)
    receiver.stop()
    _earn(card, 100)  # waiting: kept however old
    frozen_clock.advance(days=2)
    assert send_due_webhooks() == 0
    prune_old_rows()  # the daily pruning (PRUNE_WEBHOOK_DELIVERY_DAYS, 30)
    assert _statuses() == [("points.earned", "pending")]
