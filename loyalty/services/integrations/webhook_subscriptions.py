"""Which of a merchant's active webhook endpoints want which event: a worker's copy, kept
while the merchant's cache version (``engine.merchant_cache``) is the one the request knows,
so the counter's path pays no query for a merchant without webhooks. Every change to an
endpoint bumps the version (``forget``), in its own transaction."""
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select, update

from loyalty.extensions import db
from loyalty.models import Merchant, WebhookEndpoint
from loyalty.services.engine.merchant_cache import known_version


@dataclass(frozen=True)
class Subscriptions:
    """A merchant's active endpoints by event, and its slug (the payloads name it)."""

    version: int | None
    slug: str | None = None
    endpoints: dict = field(default_factory=dict)  # event -> endpoint ids


def subscriptions(merchant_id):
    """Which endpoints want which event: the worker's copy while the request's version of the
    merchant is unchanged, else read now (one query)."""
    version = known_version(merchant_id)
    copies = current_app.extensions.setdefault("webhook_subscriptions", {})
    if version is not None:
        copy = copies.get(merchant_id)
        if copy is not None and copy.version == version:
            return copy
    rows = db.session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.events, Merchant.slug)
        .join(Merchant, Merchant.id == WebhookEndpoint.merchant_id)
        .where(WebhookEndpoint.merchant_id == merchant_id, WebhookEndpoint.disabled_at.is_(None))
        .order_by(WebhookEndpoint.id)).all()
    endpoints = {}
    for endpoint_id, wanted, _slug in rows:
        for event in wanted.split():
            endpoints.setdefault(event, []).append(endpoint_id)
    copy = Subscriptions(version, rows[0].slug if rows else None,
                         {event: tuple(ids) for event, ids in endpoints.items()})
    if version is not None:
        copies[merchant_id] = copy
    return copy


def forget(merchant_id):
    """Bump the merchant's cache version in the current transaction: every worker reads its
    endpoints again at its next request for it."""
    db.session.execute(update(Merchant.__table__).where(Merchant.__table__.c.id == merchant_id)
                       .values(cache_version=Merchant.__table__.c.cache_version + 1))
