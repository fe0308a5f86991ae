"""Rules shared by stamp and points redemptions."""
from flask_babel import lazy_gettext as _l

from loyalty.services.engine.merchant_cache import merchant_rows
from loyalty.services.errors import Refused


def check_cross_location(card, context):
    """Refuse a redemption away from the card's home store when the merchant says so."""
    settings = merchant_rows(card.merchant_id).settings
    if (
        not settings.allow_cross_location_redemption
        and card.enrolled_at_store_id is not None
        and context.store_id is not None
        and context.store_id != card.enrolled_at_store_id
    ):
        raise Refused(_l("Rewards for this card can only be redeemed at the store that issued it."))
