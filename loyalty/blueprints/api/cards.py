"""Cards: look them up, read one, enrol a customer, read a card's history.

Thin views over ``services.integrations`` (``card_lookup``, ``enrolment``, ``card_history``,
``card_views``); every card is looked up within the key's merchant, so another merchant's
card is "not found" like a card that does not exist.
"""
from typing import Literal

from flask import current_app, g, request
from flask_babel import get_locale
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response

from loyalty.blueprints.api.base import bp
from loyalty.blueprints.api.spec import COMMON_ERRORS, Problem, Strict, api_call, responses
from loyalty.services.integrations import card_history, card_lookup, enrolment
from loyalty.services.integrations.card_views import card_view


class QueryString(BaseModel):
    """A query string: unknown parameters are refused; numbers come as text."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


#: One card as every answer shows it (the reference's examples).
CARD_EXAMPLE = {
    "number": "1234-5678-9012", "status": "active", "points_balance": 135, "stamp_count": 4,
    "stamps_target": 10,
    "rewards": [{"id": 12, "kind": "points", "name": "Croissant", "description": None,
                 "points_cost": 50, "stamps_cost": 0}],
    "customer": {"name": "Anna Muller", "language": "fr"},
    "last_activity_at": "2026-12-07T09:41:12Z",
}


class CardRewardOut(BaseModel):
    id: int | None = Field(description="The catalogue reward's id; null for the stamp reward.")
    kind: Literal["points", "stamps"]
    name: str
    description: str | None
    points_cost: int
    stamps_cost: int


class CardCustomerOut(BaseModel):
    name: str | None = Field(description="Null once the customer's data was erased.")
    language: str | None


class CardOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [CARD_EXAMPLE]})

    number: str = Field(examples=["1234-5678-9012"])
    status: Literal["active", "inactive", "closed"]
    points_balance: int
    stamp_count: int
    stamps_target: int | None
    rewards: list[CardRewardOut] = Field(description="The rewards the card can take now.")
    customer: CardCustomerOut
    last_activity_at: str | None


class CardsOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"cards": [CARD_EXAMPLE]}]})

    cards: list[CardOut]


class CardsQuery(QueryString):
    query: str = Field(min_length=1, max_length=254, description=(
        "A card number (dashes optional), a QR token as scanned, an email or a phone number."),
        examples=["123456789012"])


class CardConsentIn(Strict):
    terms_version: str = Field(min_length=1, max_length=16, examples=["2026-01"])
    given: bool


class CardEnrolmentIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "Anna Muller", "email": "anna@example.com", "phone": "+352 621 123 456",
        "language": "fr", "consent": {"terms_version": "2026-01", "given": True}}]})

    name: str = Field(max_length=120, examples=["Anna Muller"])
    email: str | None = Field(default=None, max_length=254, examples=["anna@example.com"])
    phone: str | None = Field(default=None, max_length=40, examples=["+352 621 123 456"])
    language: Literal["en", "fr", "de", "lb"] | None = None
    consent: CardConsentIn


class CardTransactionsQuery(QueryString):
    limit: int = Field(default=card_history.DEFAULT_LIMIT, ge=1, le=card_history.MAX_LIMIT)
    cursor: str | None = Field(default=None, max_length=64, description=(
        "The `next_cursor` of the previous page; none for the newest rows."))


class CardTransactionRewardOut(BaseModel):
    id: int | None
    name: str


class CardActorOut(BaseModel):
    kind: Literal["staff", "owner", "api", "system"]
    name: str | None


class CardTransactionOut(BaseModel):
    id: int
    type: str
    stamps_delta: int
    points_delta: int
    stamps_balance_after: int
    points_balance_after: int
    amount: str | None = Field(description="The purchase amount, a decimal string.")
    order_reference: str | None
    reward: CardTransactionRewardOut | None
    store: str | None = Field(description="The store's code.")
    actor: CardActorOut
    created_at: str = Field(description="ISO 8601, UTC.")


class CardTransactionsOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"transactions": [{
        "id": 4812, "type": "points_earned", "stamps_delta": 0, "points_delta": 125,
        "stamps_balance_after": 4, "points_balance_after": 135, "amount": "12.50",
        "order_reference": "T2-000481", "reward": None, "store": "GARE",
        "actor": {"kind": "api", "name": "Till 2, Gare"}, "created_at": "2026-12-07T09:41:12Z"}],
        "next_cursor": "4812"}]})

    transactions: list[CardTransactionOut]
    next_cursor: str | None = Field(description="Null on the last page.")


def _locale():
    return str(get_locale())


@bp.get("/cards")
@api_call(tags=["Cards"], scope="cards:read", query=CardsQuery, resp=responses(CardsOut))
def find_cards():
    """Look up cards by card number, QR token, email or phone: a list, empty when none."""
    locale = _locale()
    found = card_lookup.find_cards(g.caller.merchant_id, request.args.get("query", ""))
    return {"cards": [card_view(card, None, locale) for card in found]}


@bp.get("/cards/<number>")
@api_call(tags=["Cards"], scope="cards:read", resp=responses(CardOut, errors=(404,)))
def card(number):
    """A card: balances, stamps, the rewards it can take now, its customer's name and
    language."""
    return card_view(card_lookup.card(g.caller.merchant_id, number), None, _locale())


@bp.post("/cards")
@api_call(tags=["Cards"], scope="cards:write", json=CardEnrolmentIn,
          resp=Response(HTTP_200=CardOut, HTTP_201=CardOut,
                        **{f"HTTP_{code}": Problem for code in (*COMMON_ERRORS, 409)}))
def enrol():
    """Enrol a customer: 201 with the new card, or 200 with the card the customer (known by
    this email or phone) already has. Needs the customer's consent to the terms."""
    body = request.get_json()
    card, created = enrolment.enrol(
        g.caller, name=body["name"], email=body.get("email"), phone=body.get("phone"),
        language=body.get("language"), consent=body["consent"],
        languages=tuple(current_app.config["LANGUAGES"]), idempotency_key=g.ledger_key)
    return card_view(card, None, _locale()), 201 if created else 200


@bp.get("/cards/<number>/transactions")
@api_call(tags=["Cards"], scope="cards:read", query=CardTransactionsQuery,
          resp=responses(CardTransactionsOut, errors=(404,)))
def transactions(number):
    """A card's history, newest first: `limit` rows a page, then the next page from
    `next_cursor` (pages stay put while new rows are written)."""
    card = card_lookup.card(g.caller.merchant_id, number)
    return card_history.transactions_page(
        card, limit=request.args.get("limit", card_history.DEFAULT_LIMIT, type=int),
        cursor=request.args.get("cursor"), locale=_locale())
