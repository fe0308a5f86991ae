"""Void for a return: dispatch to points or stamps by what the original transaction gave."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import LoyaltyTransaction, TransactionType
from loyalty.services.errors import NotFound
from loyalty.services.points import void_points
from loyalty.services.stamps import void_stamps


def void_transaction(card, original_id, *, amount=None, context, idempotency_key=None, notes=None):
    """Take back (part of) a purchase's points or a stamp of this card."""
    kind = db.session.scalar(
        select(LoyaltyTransaction.transaction_type).where(
            LoyaltyTransaction.id == original_id, LoyaltyTransaction.card_id == card.id)
    )
    if kind == TransactionType.POINTS_EARNED:
        return void_points(card, original_id, points=amount, context=context,
                           idempotency_key=idempotency_key, notes=notes)
    if kind == TransactionType.STAMP_EARNED:
        return void_stamps(card, original_id, stamps=amount, context=context,
                           idempotency_key=idempotency_key, notes=notes)
    raise NotFound(_l("This transaction cannot be voided: pick a purchase or stamp of this card."))
