"""Sending webhook deliveries: signed as Standard Webhooks, a card's in order, retried over
about a day, and an endpoint failing for days switched off (its owners are emailed).

A card's deliveries to one endpoint form a stream: only its earliest pending delivery (the
head) may be sent, and a sender claims it with one conditional UPDATE (pending, not claimed,
no earlier pending delivery in the stream), so two workers never send one delivery at once
nor a card's later event before an earlier one. A 2xx answer delivers it and the sender goes
on with the stream; anything else (another status, a timeout, a refused connection, an
address no longer allowed) counts an attempt and sets the next one after ``RETRY_DELAYS``;
after the last the delivery is failed and the stream moves on. ``send_due`` (every 30 s on
the ``webhooks`` queue) sends the heads whose time has come.

Each attempt is signed again (``webhook-timestamp`` is the moment it is sent); the
``webhook-id`` stays the delivery's message id, so a receiver can drop a repeat. The secret is
kept encrypted with Fernet under a key derived from ``SECRET_KEY`` (changing ``SECRET_KEY``
means adding the endpoints again).
"""
import base64
import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from cryptography.fernet import Fernet
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import aliased
from standardwebhooks.webhooks import Webhook

from loyalty import clock, metrics
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.links import external_url
from loyalty.models import (
    Customer,
    LoyaltyCard,
    Membership,
    Merchant,
    Role,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from loyalty.services.delivery import mail
from loyalty.services.integrations import webhook_addresses, webhook_subscriptions

log = logging.getLogger(__name__)

#: Seconds before each retry (about 20 hours in all); then the delivery is failed.
RETRY_DELAYS = (60, 300, 1800, 7200, 21600, 43200)
TIMEOUT_SECONDS = 5
#: An endpoint whose every attempt failed for this long is switched off.
DISABLE_AFTER = timedelta(days=3)
#: How long a sender holds a delivery it is sending (a crashed sender's claim runs out).
CLAIM = timedelta(seconds=60)
#: A sweep stops starting new streams after this long (the next sweep goes on).
SWEEP_SECONDS = 120
SWEEP_BATCH = 500
USER_AGENT = "Loyalty-Webhooks/1"
TEST_EVENT = "webhook.test"
#: Why an attempt failed without an HTTP answer: ``last_error`` starts with one of these
#: (then ``: `` and the details), as the owner's page says it.
FAILURES = {
    "timeout": _l("No answer within 5 seconds"),
    "connection": _l("Could not connect"),
    "address": _l("This address is not allowed"),
    "switched_off": _l("The endpoint was switched off"),
}
D = WebhookDelivery


def _setting(name, default):
    return current_app.config.get(name, default)


# --- the secret ----------------------------------------------------------------------------

def new_secret():
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _fernet():
    key = hashlib.sha256(b"loyalty webhook secrets\0" + current_app.secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret):
    return _fernet().encrypt(secret.encode()).decode()


def unseal(sealed):
    return _fernet().decrypt(sealed.encode()).decode()


# --- one attempt ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    delivery_id: int
    endpoint_id: int
    url: str
    secret: str
    message_id: str
    body: bytes
    test: bool


def signed_headers(secret, message_id, body, at=None):
    """The Standard Webhooks headers for ``body``, signed at ``at`` (now: the receiver checks
    the timestamp against its own clock)."""
    at = at or datetime.fromtimestamp(int(time.time()), UTC)
    return {"webhook-id": message_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, at, body),
            "content-type": "application/json", "user-agent": USER_AGENT}


def _customer(card_id):
    """The customer's details as sent, or None: no card, or they erased their data."""
    if card_id is None:
        return None
    row = db.session.execute(
        select(Customer.name, Customer.email, Customer.phone, Customer.preferred_locale,
               Customer.erased_at)
        .join(LoyaltyCard, LoyaltyCard.customer_id == Customer.id)
        .where(LoyaltyCard.id == card_id).execution_options(include_deleted=True)).one_or_none()
    if row is None or row.erased_at is not None:
        return None
    return {"name": row.name, "email": row.email, "phone": row.phone,
            "language": row.preferred_locale}


def _body(delivery):
    payload = delivery.payload
    if delivery.card_id is not None:
        payload = {**payload, "data": {**payload["data"],
                                       "customer": _customer(delivery.card_id)}}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _attempt(claim):
    """Send once; returns (delivered, status code or None, error or None)."""
    headers = signed_headers(claim.secret, claim.message_id, claim.body)
    try:
        status = webhook_addresses.post(claim.url, claim.body, headers,
                                        _setting("WEBHOOK_TIMEOUT_SECONDS", TIMEOUT_SECONDS))
    except webhook_addresses.AddressRefused as refused:
        return False, None, f"address: {refused.args[0]}"[:300]
    except httpx.TimeoutException:
        return False, None, "timeout"
    except httpx.HTTPError as error:
        return False, None, f"connection: {type(error).__name__}: {error}"[:300]
    if 200 <= status < 300:
        return True, status, None
    return False, status, None


# --- streams -------------------------------------------------------------------------------

def _earlier_pending():
    earlier = aliased(D)
    return exists().where(earlier.endpoint_id == D.endpoint_id, earlier.card_id == D.card_id,
                          earlier.status == "pending", earlier.id < D.id)


def _claim(delivery_id, now):
    """Claim the delivery if it is its stream's head, due and not held; returns a Claim."""
    with write_transaction():
        claimed = db.session.execute(
            update(D).where(D.id == delivery_id, D.status == "pending", D.next_attempt_at <= now,
                            or_(D.claimed_until.is_(None), D.claimed_until <= now),
                            ~_earlier_pending())
            .values(claimed_until=now + CLAIM)
            .execution_options(synchronize_session=False)).rowcount
        if not claimed:
            return None
        delivery = db.session.get(D, delivery_id, populate_existing=True)
        endpoint = db.session.get(WebhookEndpoint, delivery.endpoint_id)
        if endpoint.disabled_at is not None:
            delivery.status, delivery.claimed_until = "failed", None
            delivery.last_error = "switched_off"
            return None
        return Claim(delivery.id, endpoint.id, endpoint.url, unseal(endpoint.secret_encrypted),
                     delivery.message_id, _body(delivery), delivery.event_type == TEST_EVENT)


def _next_head(endpoint_id, card_id):
    if card_id is None:
        return None
    return db.session.scalar(select(D.id).where(D.endpoint_id == endpoint_id,
                                                D.card_id == card_id, D.status == "pending")
                             .order_by(D.id).limit(1))


def send_stream(delivery_id):
    """Send the delivery if it heads its stream, then the stream's next ones while they are
    delivered. Returns how many were delivered."""
    delivered = 0
    while delivery_id is not None:
        claim = _claim(delivery_id, clock.now())
        if claim is None:
            return delivered
        ok, status, error = _attempt(claim)
        metrics.WEBHOOK_ATTEMPTS.labels("delivered" if ok else "failed").inc()
        card_id = _record(claim, ok, status, error)
        if not ok:
            return delivered
        delivered += 1
        with write_transaction():
            delivery_id = _next_head(claim.endpoint_id, card_id)
    return delivered


def send_deliveries(delivery_ids):
    """The outbox job of new deliveries: each one's stream, from its head."""
    heads = db.session.execute(
        select(func.min(D.id)).where(D.id.in_(delivery_ids))
        .group_by(D.endpoint_id, func.coalesce(D.card_id, -D.id))).scalars().all()
    db.session.commit()
    for delivery_id in sorted(heads):
        send_stream(delivery_id)


def send_due(limit=SWEEP_BATCH):
    """Every 30 s: the heads whose (re)try time has come. Returns how many were delivered."""
    now = clock.now()
    heads = db.session.scalars(
        select(D.id).where(D.status == "pending", D.next_attempt_at <= now,
                           or_(D.claimed_until.is_(None), D.claimed_until <= now),
                           ~_earlier_pending())
        .order_by(D.next_attempt_at, D.id).limit(limit)).all()
    db.session.commit()
    started, delivered = time.monotonic(), 0
    for delivery_id in heads:
        if time.monotonic() - started > SWEEP_SECONDS:
            break
        delivered += send_stream(delivery_id)
    return delivered


# --- what an attempt leaves --------------------------------------------------------------

def _record(claim, ok, status, error):
    """Write the attempt's outcome; returns the delivery's card id."""
    now = clock.now()
    delays = _setting("WEBHOOK_RETRY_DELAYS", RETRY_DELAYS)
    with write_transaction():
        delivery = db.session.scalar(select(D).where(D.id == claim.delivery_id)
                                     .with_for_update().execution_options(populate_existing=True))
        if delivery is None:  # the endpoint was removed meanwhile
            return None
        delivery.attempts += 1
        delivery.last_attempt_at, delivery.claimed_until = now, None
        delivery.response_code, delivery.last_error = status, error
        endpoint = db.session.scalar(select(WebhookEndpoint)
                                     .where(WebhookEndpoint.id == claim.endpoint_id)
                                     .with_for_update())
        if ok:
            delivery.status, delivery.delivered_at = "delivered", now
            endpoint.failing_since, endpoint.last_success_at = None, now
            return delivery.card_id
        if claim.test or delivery.attempts > len(delays):
            delivery.status = "failed"
        else:
            delivery.next_attempt_at = now + timedelta(seconds=delays[delivery.attempts - 1])
        endpoint.failing_since = endpoint.failing_since or now
        disable_after = timedelta(days=_setting("WEBHOOK_DISABLE_AFTER_DAYS",
                                                DISABLE_AFTER.days))
        if endpoint.disabled_at is None and endpoint.failing_since <= now - disable_after:
            switch_off(endpoint, now)
        return delivery.card_id


def switch_off(endpoint, now):
    """In the current transaction: stop the endpoint, fail what waits for it, tell its
    merchant's owners by email."""
    endpoint.disabled_at = now
    db.session.execute(update(D).where(D.endpoint_id == endpoint.id, D.status == "pending")
                       .values(status="failed", claimed_until=None,
                               last_error="switched_off")
                       .execution_options(synchronize_session=False))
    webhook_subscriptions.forget(endpoint.merchant_id)
    owners = db.session.scalars(
        select(User.id).join(Membership, Membership.user_id == User.id)
        .where(Membership.merchant_id == endpoint.merchant_id,
               Membership.role == Role.MERCHANT_OWNER, Membership.accepted_at.is_not(None))
        .order_by(User.id)).all()
    for user_id in owners:
        mail.queue_email("webhook_disabled", merchant_id=endpoint.merchant_id,
                         endpoint_id=endpoint.id, user_id=user_id)
    log.warning("webhook endpoint %s switched off after failing since %s", endpoint.id,
                endpoint.failing_since)


def disabled_letter(payload):
    """The email telling an owner their endpoint was switched off."""
    endpoint = db.session.get(WebhookEndpoint, payload["endpoint_id"])
    user = db.session.get(User, payload["user_id"])
    if endpoint is None or endpoint.disabled_at is None or user is None:
        return None
    merchant = db.session.get(Merchant, endpoint.merchant_id)
    return mail.Letter(
        to=user.email, locale=user.preferred_locale or merchant.default_locale,
        subject=_l("Webhooks to %(url)s were switched off", url=endpoint.url),
        context={"name": user.name, "shop": merchant.name, "url": endpoint.url,
                 "days": DISABLE_AFTER.days, "link": external_url("merchant.webhooks"),
                 "color": mail.brand_color(merchant.id)})

