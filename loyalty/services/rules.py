"""Rules shared by stamp and points actions: where rewards may be redeemed, what a void may take."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import LoyaltyTransaction
from loyalty.services.errors import NotFound, Refused
from loyalty.services.ledger import already_voided
from loyalty.services.programs import loyalty_settings


def check_cross_location(card, context):
    """Refuse a redemption away from the card's home store when the merchant says so."""
    settings = loyalty_settings(card.merchant_id)
    if (
        not settings.allow_cross_location_redemption
        and card.enrolled_at_store_id is not None
        and context.store_id is not None
        and context.store_id != card.enrolled_at_store_id
    ):
        raise Refused(_l("Rewards for this card can only be redeemed at the store that issued it."))


def check_void_allowed(card, original_id, earn_type):
    """The original ``earn_type`` transaction of this card, if voids are allowed."""
    if not loyalty_settings(card.merchant_id).allow_voids:
        raise Refused(_l("Voids are turned off for this shop. Ask the owner to adjust the card."))
    original = db.session.scalar(
        select(LoyaltyTransaction).where(
            LoyaltyTransaction.id == original_id,
            LoyaltyTransaction.card_id == card.id,
            LoyaltyTransaction.transaction_type == earn_type,
        )
    )
    if original is None:
        raise NotFound(_l("This transaction cannot be voided: pick a purchase or stamp of this card."))
    return original


def void_amounts(original, gave, requested, balance):
    """(taken, shortfall) for a void of ``requested`` (None = all that is left) of ``original``.

    A void never takes back more than the original gave minus what earlier voids claimed,
    and never more than the balance holds; what the balance cannot cover is the shortfall,
    recorded on the void row instead of being dropped.
    """
    remaining = gave - already_voided(original.id)
    if remaining <= 0:
        raise Refused(_l("This transaction was already voided in full."))
    if requested is None:
        requested = remaining
    if requested < 1:
        raise Refused(_l("Void at least 1."))
    if requested > remaining:
        raise Refused(
            _l("At most %(remaining)s can still be voided for this transaction.", remaining=remaining)
        )
    taken = min(requested, balance)
    return taken, requested - taken
