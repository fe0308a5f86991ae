"""A merchant's webhook endpoints, as the owner manages them: add one (its secret shown
once), remove it, read its recent deliveries, send a delivery again, send a test event.

Adding and removing are audited, and bump the merchant's cache version in the same
transaction so every worker sees the change at its next request for the merchant. What is
sent, and when, is ``webhook_events`` (written with each change) and ``webhook_sending``.
"""
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import delete, func, select

from loyalty import clock
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import Merchant, WebhookDelivery, WebhookEndpoint
from loyalty.services import audit
from loyalty.services.errors import InvalidInput, NotFound, Refused
from loyalty.services.integrations import webhook_addresses, webhook_events, webhook_sending
from loyalty.services.integrations.webhook_subscriptions import forget

EVENTS = webhook_events.EVENTS
FAILURES = webhook_sending.FAILURES
#: Endpoints one merchant may have (each change is sent to each of them).
MAX_ENDPOINTS = 10
#: Deliveries shown per endpoint on the owner's page.
RECENT = 10
ENDPOINT_NOT_FOUND = _l("This endpoint does not exist any more.")


def _clean_events(events):
    chosen = sorted(set(events or ()))
    if not chosen:
        raise InvalidInput(_l("Pick at least one event to send."), field="events")
    unknown = [event for event in chosen if event not in EVENTS]
    if unknown:
        raise InvalidInput(_l("Unknown event: %(event)s.", event=unknown[0]), field="events")
    return chosen


def create_endpoint(merchant_id, *, url, events, actor=None):
    """A new endpoint: returns (WebhookEndpoint, its secret in clear, to be shown once)."""
    url = webhook_addresses.clean_url(url)
    chosen = _clean_events(events)
    secret = webhook_sending.new_secret()
    with write_transaction():
        count = db.session.scalar(select(func.count(WebhookEndpoint.id)).where(
            WebhookEndpoint.merchant_id == merchant_id))
        if count >= MAX_ENDPOINTS:
            raise Refused(lazy_ngettext("You have %(num)d endpoint already: remove one first.",
                                        "You have %(num)d endpoints already: remove one first.",
                                        MAX_ENDPOINTS))
        endpoint = WebhookEndpoint(merchant_id=merchant_id, url=url, events=" ".join(chosen),
                                   secret_encrypted=webhook_sending.seal(secret),
                                   secret_prefix=secret[:12],
                                   created_by_id=actor.user_id if actor else None,
                                   created_at=clock.now())
        db.session.add(endpoint)
        db.session.flush()
        forget(merchant_id)
        audit.record(actor, "webhook.create", endpoint, merchant_id=merchant_id, label=url,
                     changes={"url": (None, url), "events": (None, " ".join(chosen))})
    return endpoint, secret


def _endpoint(merchant_id, endpoint_id, lock=False):
    query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id,
                                          WebhookEndpoint.merchant_id == merchant_id)
    endpoint = db.session.scalar(query.with_for_update() if lock else query)
    if endpoint is None:
        raise NotFound(ENDPOINT_NOT_FOUND)
    return endpoint


def remove_endpoint(merchant_id, endpoint_id, *, actor=None):
    """Remove the endpoint and its deliveries: nothing more is sent to it."""
    with write_transaction():
        endpoint = _endpoint(merchant_id, endpoint_id, lock=True)
        url = endpoint.url
        db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
                           .execution_options(synchronize_session=False))
        db.session.delete(endpoint)
        forget(merchant_id)
        audit.record(actor, "webhook.delete", endpoint, merchant_id=merchant_id, label=url,
                     changes={"url": (url, None)})


def endpoints_of(merchant_id):
    """The merchant's endpoints, oldest first."""
    return db.session.scalars(select(WebhookEndpoint)
                              .where(WebhookEndpoint.merchant_id == merchant_id)
                              .order_by(WebhookEndpoint.id)).all()


def recent_deliveries(endpoint_ids, limit=RECENT):
    """endpoint id -> its latest deliveries, newest first (one query for them all)."""
    if not endpoint_ids:
        return {}
    D = WebhookDelivery
    rank = func.row_number().over(partition_by=D.endpoint_id, order_by=D.id.desc()).label("rank")
    ranked = select(D.id, rank).where(D.endpoint_id.in_(endpoint_ids)).subquery()
    rows = db.session.scalars(select(D).join(ranked, ranked.c.id == D.id)
                              .where(ranked.c.rank <= limit).order_by(D.id.desc())).all()
    found = {endpoint_id: [] for endpoint_id in endpoint_ids}
    for row in rows:
        found[row.endpoint_id].append(row)
    return found


def send_again(merchant_id, delivery_id):
    """The same event (the same ``webhook-id``) once more to the same endpoint, as a new
    delivery after what the card's stream still waits for."""
    with write_transaction():
        original = db.session.scalar(select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.merchant_id == merchant_id))
        if original is None:
            raise NotFound(_l("This delivery does not exist any more."))
        endpoint = _endpoint(merchant_id, original.endpoint_id)
        if endpoint.disabled_at is not None:
            raise Refused(_l("This endpoint is switched off. Add it again to send to it."))
        now = clock.now()
        again = WebhookDelivery(
            merchant_id=merchant_id, endpoint_id=endpoint.id, card_id=original.card_id,
            event_type=original.event_type, message_id=original.message_id,
            payload=original.payload, created_at=now, status="pending", attempts=0,
            next_attempt_at=now)
        db.session.add(again)
        db.session.flush()
        webhook_events.hand_over(merchant_id, [again.id])
    return again


def send_test(merchant_id, endpoint_id):
    """A ``webhook.test`` event to the endpoint (tried once: it says whether it works)."""
    with write_transaction():
        endpoint = _endpoint(merchant_id, endpoint_id)
        if endpoint.disabled_at is not None:
            raise Refused(_l("This endpoint is switched off. Add it again to send to it."))
        slug = db.session.scalar(select(Merchant.slug).where(Merchant.id == merchant_id))
        payload = webhook_events.envelope(webhook_sending.TEST_EVENT, clock.now(),
                                          {"merchant": slug})
        ids = webhook_events.write(merchant_id, [endpoint.id], [(None, payload)])
    return ids[0]
