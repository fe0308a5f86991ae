"""Refunds of orders credited with a reference: each takes back what its part of the order
earned, and no more than the order ever earned, however many refunds and in whatever order.

Each refund is ledger rows, under the card's lock (so refunds of one order run one at a time):
a void of the order's points row carrying the refunded amount (``purchase_amount_cents``) and
the reference, and a void of its stamps row when stamps go back. What an order still keeps
after refunds totalling R of an order of A is ``floor(earned x (A - R) / A)``; this refund
claims what that leaves minus what voids of the row already claimed (a counter's void of the
same purchase included), so the sum of the refunds' claims never passes what the order
earned and the last cent refunded takes back the last point. A visit's stamp (stamp-only
program) stands while any of the order stands: only a full refund takes it back. Points or
stamps spent since are taken as far as the balance goes; the rest is the void's shortfall,
as with a counter's void. The refunds of one order add up to at most its amount.

A refund is no counter void: the merchant's void window and its "allow voids" switch do
not apply (a return of goods must cost the points, whenever it comes).
"""
import json
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from loyalty import clock
from loyalty.extensions import db
from loyalty.models import LoyaltyTransaction, Merchant, TransactionType
from loyalty.services.engine.actions import CardRef, run_card_action
from loyalty.services.engine.ledger import append, claimed_by_voids, find_replay
from loyalty.services.engine.stamps import stamps_voided
from loyalty.services.engine.voids import split_void
from loyalty.services.errors import InvalidInput, NotFound, Refused
from loyalty.services.integrations import idempotency
from loyalty.services.integrations.card_views import card_view
from loyalty.services.integrations.catalog import as_amount
from loyalty.services.integrations.money import check_currency, to_cents
from loyalty.services.integrations.orders import Answer, api_context, order_for, second_key

VOID_OF = {TransactionType.POINTS_EARNED: TransactionType.POINTS_VOIDED,
           TransactionType.STAMP_EARNED: TransactionType.STAMP_VOIDED}
NO_ORDER = _l("No purchase with this order reference earned anything here.")


@dataclass(frozen=True)
class Order:
    """What a refund needs of an order: its card, amount, and the rows that earned."""

    card_id: int
    amount_cents: int
    #: Ledger ids, the first carrying each refund's amount.
    row_ids: tuple
    visit_stamp: bool


def _order(merchant_id, reference):
    """The order credited with ``reference``: through the API, or at the counter with an order
    reference typed (its ``points_earned`` row)."""
    order = order_for(merchant_id, reference)
    if order is not None:
        rows = tuple(row_id for row_id in (order.points_transaction_id,
                                           order.stamps_transaction_id) if row_id is not None)
        return Order(order.card_id, order.amount_cents, rows, order.visit_stamp)
    T = LoyaltyTransaction
    row = db.session.execute(select(T.id, T.card_id, T.purchase_amount_cents).where(
        T.merchant_id == merchant_id, T.order_reference == reference,
        T.transaction_type == TransactionType.POINTS_EARNED)).one_or_none()
    if row is None or not row.purchase_amount_cents:
        raise NotFound(NO_ORDER)
    return Order(row.card_id, row.purchase_amount_cents, (row.id,), False)


def refunded_cents(original_id, reference):
    """What the refunds of an order (voids of its first row with its reference) refunded."""
    T = LoyaltyTransaction
    return db.session.scalar(select(func.coalesce(func.sum(T.purchase_amount_cents), 0)).where(
        T.related_transaction_id == original_id, T.order_reference == reference))


def _rows_and_voids(order, reference):
    """Under the card's lock, in one statement: the order's rows ({id: row}, each with what
    voids of it claimed so far, a counter's void included) and what the order's refunds
    (voids of its first row carrying its reference) refunded."""
    T, V = LoyaltyTransaction, aliased(LoyaltyTransaction)
    of_row = V.related_transaction_id == T.id
    claimed = select(claimed_by_voids(V)).where(of_row).scalar_subquery()
    refunded = select(func.coalesce(func.sum(V.purchase_amount_cents), 0)).where(
        of_row, V.order_reference == reference).scalar_subquery()
    rows = db.session.execute(
        select(T.id, T.transaction_type, T.points_delta, T.stamps_delta, T.transaction_at,
               T.counter_at, claimed.label("claimed"), refunded.label("refunded"))
        .where(T.id.in_(order.row_ids))).all()
    by_id = {row.id: row for row in rows}
    return by_id, by_id[order.row_ids[0]].refunded


def _kept(original, order, left_after):
    """What ``original`` still stands for once ``left_after`` of the order is not refunded."""
    gave = abs(original.points_delta or original.stamps_delta)
    if order.visit_stamp and original.transaction_type == TransactionType.STAMP_EARNED:
        return gave if left_after > 0 else 0
    return gave * left_after // order.amount_cents


def refund(caller, reference, *, amount, currency=None, idempotency_key=None, claim=None,
           ip_address=None, user_agent=None, locale=None):
    """Refund ``amount`` of the order ``reference``: an ``Answer`` (201). ``claim`` (an
    Idempotency-Key's) keeps the answer in the refund's own transaction."""
    merchant_id = caller.merchant_id
    reference = reference.strip()
    currency = check_currency(caller.currency, currency)
    cents = to_cents(amount, currency)
    order = _order(merchant_id, reference)
    context = api_context(caller, caller.store_id, ip_address, user_agent)
    keys = (idempotency_key, second_key(idempotency_key))
    written, refunded_before = [], []

    def action(card, program, staff_pin):
        originals, refunded = _rows_and_voids(order, reference)
        refunded_before.append(refunded)
        left = order.amount_cents - refunded
        if left <= 0:
            raise Refused(_l("Order %(reference)s was already refunded in full.",
                             reference=reference))
        if cents > left:
            message = _l("At most %(left)s of order %(reference)s can still be refunded.",
                         left=as_amount(left, currency), reference=reference)
            raise InvalidInput(message, errors=[{"field": "amount", "message": str(message)}])
        card.last_activity_at = clock.now()  # a return counts as activity for expiry
        for position, row_id in enumerate(order.row_ids):
            original = originals[row_id]
            stamps = original.transaction_type == TransactionType.STAMP_EARNED
            claim = max(0, abs(original.points_delta or original.stamps_delta)
                        - _kept(original, order, left - cents) - original.claimed)
            taken, shortfall = split_void(claim, card.stamp_count if stamps else
                                          card.points_balance)
            change = {"stamps": -taken} if stamps else {"points": -taken}
            written.append(append(
                card, VOID_OF[original.transaction_type], context, idempotency_key=keys[position],
                related_transaction_id=original.id, void_shortfall=shortfall,
                order_reference=reference, purchase_amount_cents=cents if not position else None,
                **change))
            if stamps:
                timezone = db.session.get(Merchant, card.merchant_id).timezone
                stamps_voided(card, original, taken, timezone)
        return written[0]

    def answer(card):
        body = _body(card, reference, order, cents, currency, written, locale,
                     refunded=refunded_before[0] + cents)
        if claim is not None:
            idempotency.keep(claim, 201, body)
        return body

    result = run_card_action(CardRef(order.card_id, merchant_id), context, idempotency_key,
                             action, then=answer)
    if result.replayed:  # an earlier request with this key refunded: its rows are the answer
        rows = [result.transaction, *_second(merchant_id, keys[1], result.transaction)]
        return Answer(201, _body(result.card, reference, order,
                                 result.transaction.purchase_amount_cents, currency, rows,
                                 locale), replayed=True)
    return Answer(201, result.extra["then"], kept=claim is not None)


def _second(merchant_id, key, first):
    """The refund's stamps row beside ``first`` (found by its ledger key), if any."""
    if key is None:
        return []
    row = find_replay(merchant_id, key)
    return [row] if row is not None and row.id != first.id else []


def _body(card, reference, order, cents, currency, rows, locale, refunded=None):
    """The answer: ``refunded`` is the order's refunds so far with this one (read when not
    known, as for a replay)."""
    if refunded is None:
        refunded = refunded_cents(order.row_ids[0], reference)
    points = [row for row in rows if row.transaction_type == TransactionType.POINTS_VOIDED]
    stamps = [row for row in rows if row.transaction_type == TransactionType.STAMP_VOIDED]
    return json.dumps({
        "order_reference": reference,
        "amount": as_amount(cents, currency),
        "currency": currency,
        "order_amount": as_amount(order.amount_cents, currency),
        "refunded_total": as_amount(refunded, currency),
        "refundable": as_amount(order.amount_cents - refunded, currency),
        "points_taken": sum(-row.points_delta for row in points),
        "points_shortfall": sum(row.void_shortfall for row in points),
        "stamps_taken": sum(-row.stamps_delta for row in stamps),
        "stamps_shortfall": sum(row.void_shortfall for row in stamps),
        "transaction_ids": [row.id for row in rows],
        "card": card_view(card, locale=locale),
    }, ensure_ascii=False)
