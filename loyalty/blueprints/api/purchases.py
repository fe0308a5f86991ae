"""Orders: credit a purchase once per order reference, refund it in part or whole.

Thin views over ``services.integrations.orders`` and ``refunds``: the answer of a purchase is
kept with its order, so the same reference gets the same status and body back (with
``Idempotent-Replayed: true``), as a retried ``Idempotency-Key`` does.
"""
from flask import current_app, g, request
from flask_babel import get_locale
from pydantic import BaseModel, ConfigDict, Field

from loyalty.blueprints.api.base import bp
from loyalty.blueprints.api.cards import CARD_EXAMPLE, CardOut
from loyalty.blueprints.api.spec import REPLAYED_HEADER, Strict, api_call, responses
from loyalty.services.engine.stamps import MAX_STAMPS_AT_ONCE
from loyalty.services.integrations import orders, refunds

AMOUNT = Field(min_length=1, max_length=32, examples=["12.50"], description=(
    "A decimal string in the currency's minor units: \"12.50\", \"12.5\" or \"12\" for "
    "euros; more decimals than the currency has (\"12.505\") are refused, never rounded."))


class PurchaseIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "order_reference": "T2-000481", "amount": "12.50", "currency": "EUR", "store": "GARE"}]})

    order_reference: str = Field(min_length=1, max_length=64, examples=["T2-000481"],
                                 description="Your order's reference: it earns once, ever.")
    amount: str = AMOUNT
    currency: str = Field(min_length=3, max_length=3, examples=["EUR"],
                          description="The shop's currency (GET /program).")
    store: str | None = Field(None, max_length=32, examples=["GARE"], description=(
        "A store code (GET /stores). A key bound to a store acts there: another code is a "
        "403."))
    stamps: int | None = Field(None, ge=0, le=MAX_STAMPS_AT_ONCE, description=(
        "Points and stamps programs only: stamps to add with the points. A stamps-only "
        "program gives one stamp for the visit."))


class PurchaseOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "order_reference": "T2-000481", "amount": "12.50", "currency": "EUR", "store": "GARE",
        "points_earned": 125, "stamps_added": 0, "points_multiplier": 1, "happy_hour_stamps": 0,
        "transaction_ids": [4812], "card": CARD_EXAMPLE,
        "created_at": "2026-12-07T09:41:12Z"}]})

    order_reference: str
    amount: str
    currency: str
    store: str | None
    points_earned: int
    stamps_added: int
    #: A happy hour running at the order's time and store: the points' multiplier (1 without
    #: one) and the stamps it added to the visit's (0 without one), both in the counts above.
    points_multiplier: int = 1
    happy_hour_stamps: int = 0
    transaction_ids: list[int]
    card: CardOut
    created_at: str


class RefundIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"amount": "5.00", "currency": "EUR"}]})

    amount: str = AMOUNT
    currency: str | None = Field(None, min_length=3, max_length=3, examples=["EUR"])


class RefundOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "order_reference": "T2-000481", "amount": "5.00", "currency": "EUR",
        "order_amount": "12.50", "refunded_total": "5.00", "refundable": "7.50",
        "points_taken": 50, "points_shortfall": 0, "stamps_taken": 0, "stamps_shortfall": 0,
        "transaction_ids": [4815], "card": {**CARD_EXAMPLE, "points_balance": 85}}]})

    order_reference: str
    amount: str
    currency: str
    order_amount: str
    refunded_total: str = Field(description="All refunds of the order so far, this one too.")
    refundable: str = Field(description="What may still be refunded.")
    points_taken: int
    points_shortfall: int = Field(description="Points the refund should have taken back but "
                                              "the card had spent.")
    stamps_taken: int
    stamps_shortfall: int
    transaction_ids: list[int]
    card: CardOut


def _caller_details():
    return {"idempotency_key": g.ledger_key, "claim": g.idempotency_claim,
            "ip_address": request.remote_addr, "user_agent": request.user_agent.string,
            "locale": str(get_locale())}


def _json(answer):
    g.answer_kept = answer.kept  # kept with the work: the Idempotency-Key's answer is saved
    response = current_app.response_class(answer.body, status=answer.status,
                                          mimetype="application/json")
    if answer.replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return response


@bp.post("/cards/<number>/purchases")
@api_call(tags=["Orders"], scope="purchases", json=PurchaseIn,
          resp=responses(PurchaseOut, status=201, errors=(404, 409)))
def purchase(number):
    """Credit an order to a card: the program's points for the amount (a stamps-only program:
    one stamp for the visit; points and stamps: the points plus `stamps`).

    One order reference earns once per shop, ever: sent again for the same card, the first
    answer comes back unchanged (`Idempotent-Replayed: true`); for another card, a 409. The
    cooldown, the daily stamp cap and the minimum purchase refuse as at the counter (409,
    `urn:loyalty:problem:refused`)."""
    body = request.get_json()
    return _json(orders.purchase(
        g.caller, number, order_reference=body["order_reference"], amount=body["amount"],
        currency=body["currency"], store=body.get("store"), stamps=body.get("stamps"),
        **_caller_details()))


@bp.post("/orders/<order_reference>/refunds")
@api_call(tags=["Orders"], scope="purchases", json=RefundIn,
          resp=responses(RefundOut, status=201, errors=(404, 409)))
def refund(order_reference):
    """Refund part or all of an order: takes back what that part earned.

    The order keeps floor(earned x not refunded / amount) points; a visit's stamp goes back
    with the last of the order. Refunds add up to at most the order's amount (422 past it,
    409 once it is all refunded). Points spent since are taken as far as the balance goes;
    the rest is reported as `points_shortfall`. An order reference that never earned is a
    404. Send an `Idempotency-Key`: without one, the same refund sent twice refunds twice."""
    body = request.get_json()
    return _json(refunds.refund(g.caller, order_reference, amount=body["amount"],
                                currency=body.get("currency"), **_caller_details()))
