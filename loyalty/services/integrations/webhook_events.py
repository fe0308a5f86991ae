"""Webhook events: what a card went through, written as deliveries in the change's own
transaction, for each of the merchant's active endpoints subscribed to it.

The engine and the customers area call ``services.events`` (a ledger row, a points expiry
batch, an erasure); the listeners here turn those into deliveries plus one ``webhook`` outbox
row per few deliveries, which the outbox hands to the ``webhooks`` queue once the change
commits (its drain covers Redis being down). A merchant without endpoints costs no query on
the counter's path: which events its endpoints want is a worker's copy kept while the
merchant's cache version (``engine.merchant_cache``, bumped when endpoints change) is the one
the request knows.

A delivery's payload carries no personal data: the customer's name, email, phone and language
are added when it is sent, and only if they have not erased their data by then.
"""
import uuid

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from loyalty import clock
from loyalty.extensions import db
from loyalty.models import (
    LoyaltyCard,
    LoyaltyProgram,
    LoyaltyTransaction,
    TransactionType,
    WebhookDelivery,
)
from loyalty.services import events, outbox
from loyalty.services.integrations import webhook_sending
from loyalty.services.integrations.webhook_subscriptions import subscriptions

#: The outbox kind that hands deliveries to the ``webhooks`` queue.
KIND = "webhook"
#: event type -> what it means, as the owner picks them.
EVENTS = {
    "card.enrolled": _l("A customer got a card"),
    "points.earned": _l("Points were earned (a purchase, a welcome or a birthday bonus)"),
    "stamps.added": _l("A stamp was added"),
    "reward.redeemed": _l("A reward was redeemed"),
    "transaction.voided": _l("A transaction was voided"),
    "points.expired": _l("Points expired"),
    "card.updated": _l("A card was adjusted, deactivated or reactivated"),
    "card.erased": _l("A customer erased their data"),
}
T = TransactionType
TYPE_EVENTS = {
    T.CARD_CREATED: "card.enrolled",
    T.STAMP_EARNED: "stamps.added",
    T.POINTS_EARNED: "points.earned", T.WELCOME_BONUS: "points.earned",
    T.BIRTHDAY_BONUS: "points.earned",  # its stamps too, if any; stamps only: stamps.added
    T.STAMP_REDEEMED: "reward.redeemed", T.POINTS_REDEEMED: "reward.redeemed",
    T.STAMP_VOIDED: "transaction.voided", T.POINTS_VOIDED: "transaction.voided",
    T.STAMP_REWARD_VOIDED: "transaction.voided", T.POINTS_REWARD_VOIDED: "transaction.voided",
    T.POINTS_EXPIRED: "points.expired",
    T.CARD_DEACTIVATED: "card.updated", T.CARD_REACTIVATED: "card.updated",
    T.STAMP_ADJUSTED: "card.updated", T.POINTS_ADJUSTED: "card.updated",
}
#: Deliveries per outbox row (one job sends them, a card's in order).
PER_JOB = 20
TRANSACTION_FIELDS = ("stamps_delta", "points_delta", "stamps_balance_after",
                      "points_balance_after", "store_id", "order_reference",
                      "purchase_amount_cents", "reward_id", "related_transaction_id")


def envelope(event, at, data):
    """The body every receiver gets: ``{type, timestamp, data}``."""
    return {"type": event, "timestamp": at.isoformat().replace("+00:00", "Z"), "data": data}


def card_data(number, active, stamps, points):
    return {"number": number, "active": bool(active), "stamp_count": stamps,
            "points_balance": points}


def write(merchant_id, endpoint_ids, events_):
    """Deliveries of ``events_`` (``(card id or None, payload)`` pairs) to each endpoint, and
    their outbox rows, in the current transaction. Returns the deliveries' ids."""
    now = clock.now()
    rows = []
    for card_id, payload in events_:
        message_id = f"msg_{uuid.uuid4().hex}"
        rows.extend({"merchant_id": merchant_id, "endpoint_id": endpoint_id,
                     "card_id": card_id, "event_type": payload["type"],
                     "message_id": message_id, "payload": payload, "created_at": now,
                     "status": "pending", "attempts": 0, "next_attempt_at": now}
                    for endpoint_id in endpoint_ids)
    if not rows:
        return []
    statement = insert(WebhookDelivery).returning(WebhookDelivery.id,
                                                  sort_by_parameter_order=True)
    ids = db.session.scalars(statement, rows).all()
    hand_over(merchant_id, ids)
    return ids


def hand_over(merchant_id, delivery_ids):
    """Outbox rows that send these deliveries once the current transaction commits."""
    outbox.add_many(KIND, [{"delivery_ids": delivery_ids[start:start + PER_JOB]}
                           for start in range(0, len(delivery_ids), PER_JOB)],
                    merchant_id=merchant_id)


def _event_of(values):
    kind = TransactionType(values["transaction_type"])
    if kind == T.BIRTHDAY_BONUS and not values.get("points_delta") and values.get("stamps_delta"):
        return "stamps.added"  # a stamp card's birthday gift: no points were earned
    return TYPE_EVENTS.get(kind)


def _transaction_event(wanted, card, values, event):
    transaction = {"id": values["id"], "type": str(TransactionType(values["transaction_type"])),
                   **{name: values.get(name) for name in TRANSACTION_FIELDS},
                   "at": envelope(event, values["transaction_at"], {})["timestamp"]}
    data = {"merchant": wanted.slug,
            "card": card_data(card.card_number, card.is_active, card.stamp_count,
                              card.points_balance),
            "transaction": transaction}
    return envelope(event, values["transaction_at"], data)


@events.listen("transaction")
def _transaction_recorded(card, values):
    _transactions_recorded(card.merchant_id, [(card, values)])


@events.listen("transactions")
def _transactions_recorded(merchant_id, rows):
    """Deliveries of a batch of ledger rows: one look at the subscriptions, one insert (per
    endpoint set: an event's endpoints)."""
    wanted = subscriptions(merchant_id)
    by_endpoints = {}
    for card, values in rows:
        event = _event_of(values)
        endpoint_ids = wanted.endpoints.get(event)
        if endpoint_ids:
            by_endpoints.setdefault(endpoint_ids, []).append(
                (card.id, _transaction_event(wanted, card, values, event)))
    for endpoint_ids, events_ in by_endpoints.items():
        write(merchant_id, endpoint_ids, events_)


@events.listen("expired")
def _points_expired(program_id, card_ids, at):
    merchant_id = db.session.scalar(select(LoyaltyProgram.merchant_id)
                                    .where(LoyaltyProgram.id == program_id))
    wanted = subscriptions(merchant_id)
    endpoint_ids = wanted.endpoints.get("points.expired")
    if not endpoint_ids:
        return
    Tx, C = LoyaltyTransaction, LoyaltyCard
    rows = db.session.execute(
        select(Tx.id, Tx.card_id, Tx.points_delta, Tx.stamps_delta, Tx.stamps_balance_after,
               Tx.points_balance_after, C.card_number, C.is_active)
        .join(C, C.id == Tx.card_id)
        .where(Tx.card_id.in_(card_ids), Tx.transaction_type == TransactionType.POINTS_EXPIRED,
               Tx.transaction_at == at)
        .order_by(Tx.id).execution_options(include_deleted=True)).all()
    stamp = envelope("points.expired", at, {})["timestamp"]
    write(merchant_id, endpoint_ids, [(row.card_id, envelope("points.expired", at, {
        "merchant": wanted.slug,
        "card": card_data(row.card_number, row.is_active, row.stamps_balance_after,
                          row.points_balance_after),
        "transaction": {"id": row.id, "type": str(TransactionType.POINTS_EXPIRED),
                        "stamps_delta": row.stamps_delta, "points_delta": row.points_delta,
                        "stamps_balance_after": row.stamps_balance_after,
                        "points_balance_after": row.points_balance_after, "at": stamp},
    })) for row in rows])


@events.listen("erased")
def _card_erased(card):
    wanted = subscriptions(card.merchant_id)
    endpoint_ids = wanted.endpoints.get("card.erased")
    if not endpoint_ids:
        return
    data = {"merchant": wanted.slug,
            "card": card_data(card.card_number, card.is_active, card.stamp_count,
                              card.points_balance)}
    write(card.merchant_id, endpoint_ids, [(card.id, envelope("card.erased", clock.now(), data))])


@outbox.handler(KIND)
def send_deliveries(row):
    """The outbox's job: send these deliveries (each card's in order, after what its stream
    still waits for) outside any transaction; what fails is retried by the sweep."""
    ids = list(row.payload.get("delivery_ids", ()))
    return outbox.Effect(record=lambda row: None,
                         send=lambda: webhook_sending.send_deliveries(ids))
