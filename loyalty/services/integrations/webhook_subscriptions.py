"""Which of a merchant's active webhook endpoints want which event: kept with the merchant's
rows in the worker's copy (``engine.merchant_cache``), so the counter's path pays no query
for it while the merchant's version is unchanged. Every change to an endpoint bumps the
version (``forget``), in its own transaction."""
from dataclasses import dataclass, field

from sqlalchemy import select, update

from loyalty.extensions import db
from loyalty.models import Merchant, WebhookEndpoint
from loyalty.services.engine.merchant_cache import EXTRAS, known_version, merchant_rows

EXTRA = "webhooks"


@dataclass(frozen=True)
class Subscriptions:
    """A merchant's active endpoints by event, and its slug (the payloads name it)."""

    slug: str | None = None
    endpoints: dict = field(default_factory=dict)  # event -> endpoint ids


def subscriptions(merchant_id):
    """Which endpoints want which event: in a request, the copy kept with the merchant's rows
    (no query while its version is unchanged); elsewhere read now (one query)."""
    if known_version(merchant_id) is None:
        return read(merchant_id)
    return merchant_rows(merchant_id).extras.get(EXTRA) or read(merchant_id)


def read(merchant_id):
    rows = db.session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.events, Merchant.slug)
        .join(Merchant, Merchant.id == WebhookEndpoint.merchant_id)
        .where(WebhookEndpoint.merchant_id == merchant_id, WebhookEndpoint.disabled_at.is_(None))
        .order_by(WebhookEndpoint.id)).all()
    endpoints = {}
    for endpoint_id, wanted, _slug in rows:
        for event in wanted.split():
            endpoints.setdefault(event, []).append(endpoint_id)
    return Subscriptions(rows[0].slug if rows else None,
                         {event: tuple(ids) for event, ids in endpoints.items()})


EXTRAS[EXTRA] = read


def forget(merchant_id):
    """Bump the merchant's cache version in the current transaction: every worker reads its
    endpoints again at its next request for it."""
    db.session.execute(update(Merchant.__table__).where(Merchant.__table__.c.id == merchant_id)
                       .values(cache_version=Merchant.__table__.c.cache_version + 1))
