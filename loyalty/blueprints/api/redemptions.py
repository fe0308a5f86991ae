"""Stamps and rewards: the counter's own actions with the key as the actor (no staff PIN),
the same cooldown, daily cap and balance rules, refused with the same words (409)."""
from flask import g, request
from flask_babel import get_locale
from pydantic import BaseModel, ConfigDict, Field

from loyalty.blueprints.api.base import bp
from loyalty.blueprints.api.cards import CARD_EXAMPLE, CardOut
from loyalty.blueprints.api.spec import Strict, api_call, responses
from loyalty.services.engine.stamps import MAX_STAMPS_AT_ONCE
from loyalty.services.integrations import card_actions

STORE = Field(None, max_length=32, examples=["GARE"], description=(
    "A store code (GET /stores); a key bound to a store acts there."))


class StampsIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"quantity": 1, "store": "GARE"}]})

    quantity: int = Field(1, ge=1, le=MAX_STAMPS_AT_ONCE, examples=[1])
    store: str | None = STORE


class StampsOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "transaction_id": 4813, "stamps_added": 1, "card": {**CARD_EXAMPLE, "stamp_count": 5}}]})

    transaction_id: int
    stamps_added: int
    card: CardOut


class RedemptionIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reward_id": 12}]})

    reward_id: int | None = Field(None, ge=1, le=2**31 - 1, examples=[12],
                                  description="A reward of GET /program.")
    stamp_reward: bool = Field(False, description="true: the full stamp card's reward.")
    store: str | None = STORE


class RedeemedRewardOut(BaseModel):
    id: int | None
    kind: str
    name: str | None


class RedemptionOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "transaction_id": 4814, "reward": {"id": 12, "kind": "points", "name": "Croissant"},
        "points_spent": 50, "stamps_spent": 0,
        "card": {**CARD_EXAMPLE, "points_balance": 85, "rewards": []}}]})

    transaction_id: int
    reward: RedeemedRewardOut
    points_spent: int
    stamps_spent: int
    card: CardOut


def _caller_details():
    return {"idempotency_key": g.ledger_key, "ip_address": request.remote_addr,
            "user_agent": request.user_agent.string, "locale": str(get_locale())}


@bp.post("/cards/<number>/stamps")
@api_call(tags=["Cards"], scope="purchases", json=StampsIn,
          resp=responses(StampsOut, status=201, errors=(404, 409)))
def stamps(number):
    """Add stamps to a card, under the program's cooldown and daily cap."""
    body = request.get_json()
    return card_actions.add_stamps(g.caller, number, quantity=body.get("quantity", 1),
                                   store=body.get("store"), **_caller_details()), 201


@bp.post("/cards/<number>/redemptions")
@api_call(tags=["Cards"], scope="redemptions", json=RedemptionIn,
          resp=responses(RedemptionOut, status=201, errors=(404, 409)))
def redemption(number):
    """Give a card a reward: `{"reward_id": 12}` spends its points, `{"stamp_reward": true}`
    its full stamp card. Refused (409) without enough points or stamps, or away from the
    card's home store when the shop says so."""
    body = request.get_json()
    return card_actions.redeem(g.caller, number, reward_id=body.get("reward_id"),
                               stamp_reward=body.get("stamp_reward", False),
                               store=body.get("store"), **_caller_details()), 201
