"""What a till reads once: the program's rules and rewards, and the merchant's stores."""
from decimal import Decimal

from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import Merchant, Store
from loyalty.services.customers.storefront import NO_PROGRAM
from loyalty.services.engine.merchant_cache import merchant_rows
from loyalty.services.errors import NotFound
from loyalty.services.merchant.texts import text_for


def minor_units(currency):
    """Digits after the decimal point of ``currency`` (EUR 2, JPY 0)."""
    from babel.numbers import get_currency_precision  # noqa: PLC0415 - babel is Flask-Babel's

    return get_currency_precision(currency)


def as_amount(cents, currency):
    """``cents`` in ``currency`` as the API's decimal string ("12.50")."""
    digits = minor_units(currency)
    return str((Decimal(cents) / (10 ** digits)).quantize(Decimal(1).scaleb(-digits)))


def reward_dict(reward, locale):
    return {"id": reward.id, "name": text_for(reward, "name", locale),
            "description": text_for(reward, "description", locale),
            "points_cost": reward.points_cost}


def till_program(merchant_id, locale):
    """The live program as a till applies it, its texts in ``locale``; NotFound without one."""
    rows = merchant_rows(merchant_id)
    program = rows.program
    if program is None:
        raise NotFound(NO_PROGRAM)
    currency = db.session.scalar(select(Merchant.currency).where(Merchant.id == merchant_id))
    return {
        "type": program.program_type.value,
        "active": program.is_active,
        "card_name": text_for(program, "card_name", locale),
        "currency": currency,
        "stamps": {
            "target": program.stamps_target,
            "reward": text_for(program, "stamp_reward_description", locale),
            "cooldown_minutes": program.cooldown_minutes,
            "max_per_day": program.max_stamps_per_day,
        } if program.has_stamps else None,
        "points": {
            "per_currency_unit": program.points_per_euro,
            "minimum_purchase": as_amount(program.minimum_purchase_cents, currency),
            "minimum_redemption": program.minimum_redemption_points,
            "expire_after_days": program.points_expiration_days,
        } if program.has_points else None,
        "rewards": [reward_dict(reward, locale) for reward in rows.rewards]
        if program.has_points else [],
    }


def stores_of(merchant_id):
    """The merchant's open stores, by name."""
    return [{"code": store.code, "name": store.name, "address": store.address}
            for store in db.session.scalars(select(Store).where(
                Store.merchant_id == merchant_id, Store.is_active.is_(True))
                .order_by(Store.name))]
