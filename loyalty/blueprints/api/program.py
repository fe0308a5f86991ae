"""The program a till applies, the merchant's stores, the public offer and the reference."""
from flask import g, jsonify
from flask_babel import get_locale
from pydantic import BaseModel, ConfigDict

from loyalty.blueprints.api.base import bp
from loyalty.blueprints.api.spec import api_call, openapi_document, responses
from loyalty.services.customers.storefront import merchant_for_slug, public_program
from loyalty.services.integrations import catalog


class RewardOut(BaseModel):
    id: int
    name: str
    description: str | None
    points_cost: int


class StampRules(BaseModel):
    target: int
    reward: str | None
    cooldown_minutes: int
    max_per_day: int


class PointRules(BaseModel):
    per_currency_unit: int
    minimum_purchase: str
    minimum_redemption: int
    expire_after_days: int | None


class ProgramOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "type": "hybrid", "active": True, "card_name": "Coffee card", "currency": "EUR",
        "stamps": {"target": 10, "reward": "A free coffee", "cooldown_minutes": 15,
                   "max_per_day": 5},
        "points": {"per_currency_unit": 10, "minimum_purchase": "2.00", "minimum_redemption": 50,
                   "expire_after_days": 365},
        "rewards": [{"id": 12, "name": "Croissant", "description": "Plain or chocolate",
                     "points_cost": 50}],
    }]})

    type: str
    active: bool
    card_name: str
    currency: str
    stamps: StampRules | None
    points: PointRules | None
    rewards: list[RewardOut]


class StoreOut(BaseModel):
    code: str
    name: str
    address: str | None


class StoresOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"stores": [
        {"code": "GARE", "name": "Kaffisbuttek Gare", "address": "12 Rue de la Gare, Luxembourg"},
    ]}]})

    stores: list[StoreOut]


class PublicRewardOut(BaseModel):
    name: str
    description: str | None
    points_cost: int


class PublicStoreOut(BaseModel):
    name: str
    address: str | None
    opening_note: str | None


class PublicProgramOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "shop": "Kaffisbuttek", "card_name": "Coffee card", "has_stamps": True,
        "has_points": False, "offer": ["Collect 10 stamps: a free coffee."], "rewards": [],
        "stores": [{"name": "Kaffisbuttek Gare", "address": "12 Rue de la Gare, Luxembourg",
                    "opening_note": "Monday to Saturday, 7:00 to 18:00"}],
        "self_enrollment": True, "language": "en",
    }]})

    shop: str
    card_name: str
    has_stamps: bool
    has_points: bool
    offer: list[str]
    rewards: list[PublicRewardOut]
    stores: list[PublicStoreOut]
    self_enrollment: bool
    language: str


@bp.get("/program")
@api_call(tags=["Program"], scope="cards:read", resp=responses(ProgramOut, errors=(404,)))
def program():
    """The program: its type, the rules a till applies, its rewards.

    Texts are in the language of `Accept-Language` when the owner wrote them in it."""
    return catalog.till_program(g.caller.merchant_id, str(get_locale()))


@bp.get("/stores")
@api_call(tags=["Program"], scope="cards:read", resp=responses(StoresOut))
def stores():
    """The merchant's open stores: a purchase names one by its `code`."""
    return {"stores": catalog.stores_of(g.caller.merchant_id)}


@bp.get("/public/merchants/<slug>/program")
@api_call(tags=["Public"], public=True, resp=responses(PublicProgramOut, errors=(404,),
                                                      public=True))
def public_merchant_program(slug):
    """A shop's offer for its own web site: no key, open to any origin (CORS).

    Only what the shop's public page shows: no ids, no settings, no customer data."""
    offer = public_program(merchant_for_slug(slug), str(get_locale()))
    return {
        "shop": offer.shop, "card_name": offer.card_name, "has_stamps": offer.has_stamps,
        "has_points": offer.has_points, "offer": list(offer.offer),
        "rewards": [{"name": r.name, "description": r.description, "points_cost": r.points_cost}
                    for r in offer.rewards],
        "stores": [{"name": s.name, "address": s.address, "opening_note": s.opening_note}
                   for s in offer.stores],
        "self_enrollment": offer.self_enrollment, "language": offer.language,
    }


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of this API, written from the schemas that validate it."""
    return jsonify(openapi_document())


openapi.public_api = True
