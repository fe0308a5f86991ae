"""Purchases a till or a web shop credits: one order reference earns once per merchant, ever.

A purchase runs the terminal's own rules (``engine.points.earning_action``,
``engine.stamps.stamping_action``) under one card lock, in one transaction with the
``ApiOrder`` row that claims its reference and keeps its answer. The same reference again
(a retry, a double submit, another till) gets that first answer back, unchanged; on another
card it is refused. A refused purchase claims nothing: it may be sent again once the reason
is gone. What a program gives for an order:

- points: the program's points for the amount (its minimum purchase applies);
- stamps only: one stamp for the visit, under the cooldown and the daily cap;
- hybrid: the points, plus ``stamps`` stamps when the till sends a count (refused whole
  when either part is refused: an order is credited all at once or not at all).

Refunds are in ``refunds.py``.
"""
import json
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from loyalty import clock
from loyalty.extensions import db
from loyalty.models import ApiOrder, Store
from loyalty.services.engine.actions import CardRef, run_card_action
from loyalty.services.engine.cards import normalize_card_number
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.merchant_cache import merchant_rows
from loyalty.services.engine.points import already_earned, earning_action
from loyalty.services.engine.stamps import stamping_action
from loyalty.services.errors import Conflict, DomainError, InvalidInput, PermissionDenied
from loyalty.services.integrations import idempotency
from loyalty.services.integrations.card_views import card_view, iso_utc
from loyalty.services.integrations.catalog import as_amount
from loyalty.services.integrations.money import check_currency, to_cents

#: The ledger key of an order's second row (its stamps beside its points): the first row
#: carries the request's key, and keys are unique per merchant.
SECOND_ROW = "-s"


@dataclass(frozen=True)
class Answer:
    """What the API answers: a status, the JSON text, and whether it was given before."""

    status: int
    body: str
    replayed: bool = False
    #: Saved as its Idempotency-Key's answer in the work's own transaction.
    kept: bool = False


class _AlreadyCredited(DomainError):
    """Under the lock: the reference was credited meanwhile (the first answer is given)."""


def second_key(idempotency_key):
    return idempotency_key + SECOND_ROW if idempotency_key else None


def api_context(caller, store_id, ip_address=None, user_agent=None):
    """The ledger's actor for an API call: the key (its name shows as the actor), its store."""
    return ActionContext(store_id=store_id, api_key_id=caller.key_id, ip_address=ip_address,
                         user_agent=user_agent)


def store_for(caller, code, field="store"):
    """The store a call acts at: the key's own store when it is bound to one (another code
    is a 403), else the open store whose ``code`` was sent (unknown: 422), else none."""
    if caller.store_id is not None:
        if code is not None:
            own = db.session.scalar(select(Store.code).where(Store.id == caller.store_id))
            if own is None or code.casefold() != own.casefold():
                raise PermissionDenied(_l("This API key belongs to store %(code)s: it cannot act "
                                          "for another store.", code=own))
        return caller.store_id
    if code is None:
        return None
    store_id = db.session.scalar(select(Store.id).where(
        Store.merchant_id == caller.merchant_id, Store.code == code, Store.is_active.is_(True)))
    if store_id is None:
        raise InvalidInput(_l("There is no open store with this code: see GET /api/v1/stores."),
                           errors=[{"field": field, "message": str(_l("Unknown store code."))}])
    return store_id


def happy_hour_answer(rows):
    """What a happy hour did to the order's rows (``{"points": row, "stamps": row}``): the
    points' multiplier (1 without one) and the stamps it added (0 without one)."""
    points, stamps = rows.get("points"), rows.get("stamps")
    return {
        "points_multiplier": (points.points_delta // points.base_delta
                              if points is not None and points.base_delta else 1),
        "happy_hour_stamps": (stamps.stamps_delta - stamps.base_delta
                              if stamps is not None and stamps.base_delta else 0),
    }


def store_code(store_id):
    if store_id is None:
        return None
    return db.session.scalar(select(Store.code).where(Store.id == store_id))


def order_for(merchant_id, reference):
    return db.session.scalar(select(ApiOrder).where(ApiOrder.merchant_id == merchant_id,
                                                    ApiOrder.order_reference == reference))


def _first_answer(order, card_id):
    if order.card_id != card_id:
        raise Conflict(_l("Order %(reference)s was already credited to another card. Nothing "
                          "was added.", reference=order.order_reference))
    return Answer(201, order.response_body, replayed=True)


def _answer_of(merchant_id, reference, card_id):
    db.session.expire_all()  # the first request committed after this session last looked
    order = order_for(merchant_id, reference)
    return _first_answer(order, card_id) if order is not None else None


def purchase(caller, number, *, order_reference, amount, currency, store=None, stamps=None,
             idempotency_key=None, claim=None, ip_address=None, user_agent=None, locale=None):
    """Credit one order to the card ``number``: an ``Answer`` (201, the first answer again for
    a reference already credited to this card). Refusals are the engine's own. ``claim``
    (an Idempotency-Key's) keeps the answer in the order's own transaction."""
    merchant_id = caller.merchant_id
    reference = order_reference.strip()
    currency = check_currency(caller.currency, currency)
    cents = to_cents(amount, currency)
    card = CardRef(None, merchant_id, number=normalize_card_number(number))
    locked_ids = []  # the card's id, once its lock has read it
    program = merchant_rows(merchant_id).program
    if stamps and not (program is not None and program.has_points and program.has_stamps):
        raise InvalidInput(_l("Only a program with points and stamps takes a stamps count."),
                           errors=[{"field": "stamps",
                                    "message": str(_l("Not for this program."))}])
    store_id = store_for(caller, store)
    context = api_context(caller, store_id, ip_address, user_agent)
    rows = {}

    def action(locked, program, staff_pin):
        locked_ids.append(locked.id)
        # A reference credited before is refused and its first answer given (below). With
        # points, the ledger's unique index of order references says so when the row is
        # written (no read first: most orders are new).
        if not program.has_points and order_for(merchant_id, reference) is not None:
            raise _AlreadyCredited(reference)
        if program.has_points:
            rows["points"] = earning_action(cents, context=context, order_reference=reference,
                                            idempotency_key=idempotency_key,
                                            check_reference=False)(locked, program, staff_pin)
        if program.has_stamps and (stamps or not program.has_points):
            details = {"order_reference": reference}
            if not program.has_points:
                details["purchase_amount_cents"] = cents  # the order's amount, on its only row
            key = second_key(idempotency_key) if rows else idempotency_key
            rows["stamps"] = stamping_action(stamps or 1, context=context, idempotency_key=key,
                                             **details)(locked, program, staff_pin)
        return rows.get("points") or rows["stamps"]

    def record(locked):
        program = merchant_rows(merchant_id).program
        body = json.dumps({
            "order_reference": reference,
            "amount": as_amount(cents, currency),
            "currency": currency,
            "store": store_code(store_id),
            "points_earned": rows["points"].points_delta if "points" in rows else 0,
            "stamps_added": rows["stamps"].stamps_delta if "stamps" in rows else 0,
            **happy_hour_answer(rows),
            "transaction_ids": [row.id for row in rows.values()],
            "card": card_view(locked, program, locale),
            "created_at": iso_utc(clock.now()),
        }, ensure_ascii=False)
        # One INSERT (no unit of work): the unique reference makes another card's credit of
        # it fail here.
        db.session.execute(insert(ApiOrder.__table__).values(
            merchant_id=merchant_id, card_id=locked.id, order_reference=reference,
            amount_cents=cents, currency=currency, api_key_id=caller.key_id, store_id=store_id,
            points_transaction_id=rows["points"].id if "points" in rows else None,
            stamps_transaction_id=rows["stamps"].id if "stamps" in rows else None,
            visit_stamp=not program.has_points, response_body=body, created_at=clock.now()))
        if claim is not None:
            idempotency.keep(claim, 201, body)
        return body

    try:
        result = run_card_action(card, context, idempotency_key, action, then=record)
    except (DomainError, IntegrityError) as error:
        # Refused because the order was credited before or meanwhile (on this card: its
        # cooldown or its order check; on any card: the unique indexes)? Then that answer is
        # the answer; a reference the counter credited is refused as the counter refuses it.
        answer = _answer_of(merchant_id, reference, locked_ids[0]) if locked_ids else None
        if answer is not None:
            return answer
        if isinstance(error, IntegrityError):
            raise already_earned(reference) from error
        raise
    if result.replayed:  # this Idempotency-Key's ledger row exists: its order is the answer
        answer = _answer_of(merchant_id, reference, result.card.id)
        if answer is not None:
            return answer
        raise Conflict(_l("This Idempotency-Key was already used for another request. Use a "
                          "new key for a new request."))
    return Answer(201, result.extra["then"], kept=claim is not None)
