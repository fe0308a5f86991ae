"""Manual corrections by the merchant owner: bounded, with a reason, never below zero."""
from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import Membership, Role, TransactionType
from loyalty.services import audit
from loyalty.services.engine.ledger import ActionContext, ActionResult, append, lock_card
from loyalty.services.errors import InvalidInput, PermissionDenied, Refused

ADJUSTMENT_LIMIT = 100_000


def _is_owner(user, merchant_id):
    return user is not None and db.session.scalar(
        select(Membership.id).where(
            Membership.user_id == user.id,
            Membership.merchant_id == merchant_id,
            Membership.role == Role.MERCHANT_OWNER,
            Membership.accepted_at.is_not(None),
        )
    ) is not None


def _adjust(card, delta, reason, user, context, actor, *, field, transaction_type):
    if not _is_owner(user, card.merchant_id):
        raise PermissionDenied(_l("Only the owner of this shop can adjust cards."))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_l("Give a reason for the adjustment; it is kept in the card history."))
    if not delta or abs(delta) > ADJUSTMENT_LIMIT:
        raise InvalidInput(
            _l("An adjustment is between 1 and %(limit)s, up or down.", limit=format_number(ADJUSTMENT_LIMIT))
        )
    context = context or ActionContext(user_id=user.id)
    with write_transaction():
        locked = lock_card(card.id, card.merchant_id)
        if locked.customer.erased_at is not None:
            raise Refused(_l("This card's customer deleted their data: the card stays closed."))
        if getattr(locked, field) + delta < 0:
            raise Refused(
                _l("This would make the balance negative: the card has %(balance)s.",
                   balance=getattr(locked, field))
            )
        amounts = {"stamps": delta} if field == "stamp_count" else {"points": delta}
        before = getattr(locked, field)
        row = append(locked, transaction_type, context, notes=reason, **amounts)
        audit.record(actor, "card.adjust", locked, merchant_id=locked.merchant_id,
                     label=locked.card_number,
                     changes={field: (before, getattr(locked, field)), "reason": (None, reason)})
    return ActionResult(row, locked)


def adjustment_preview(card, delta, *, field):
    """What the balance would be after the adjustment, and whether it is allowed."""
    current = getattr(card, field)
    return current, current + delta, current + delta >= 0 and 0 < abs(delta) <= ADJUSTMENT_LIMIT


def adjust_points(card, delta, *, reason, user, context=None, actor=None):
    """Add (or remove, with a negative ``delta``) points by hand."""
    return _adjust(card, delta, reason, user, context, actor,
                   field="points_balance", transaction_type=TransactionType.POINTS_ADJUSTED)


def adjust_stamps(card, delta, *, reason, user, context=None, actor=None):
    """Add (or remove) stamps by hand."""
    return _adjust(card, delta, reason, user, context, actor,
                   field="stamp_count", transaction_type=TransactionType.STAMP_ADJUSTED)
