"""Voids: take back what an earlier stamp or purchase gave (a return), or undo a given reward.

A void never takes back more than the original gave minus what earlier voids claimed, and
never more than the balance holds; what the balance cannot cover is the shortfall, recorded
on the void row instead of being dropped. Undoing a reward gives back, once and whole, the
stamps or points it used. Both are bounded by the merchant's void window.
"""
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import select

from loyalty import clock
from loyalty.extensions import db
from loyalty.models import LoyaltyTransaction, Merchant, TransactionType
from loyalty.services.engine.actions import run_card_action
from loyalty.services.engine.ledger import already_voided, append
from loyalty.services.engine.merchant_cache import merchant_rows
from loyalty.services.engine.stamps import stamps_voided
from loyalty.services.errors import NotFound, Refused

#: original type -> (void type, the card's balance attribute, the ledger delta attribute)
VOIDABLE = {
    TransactionType.POINTS_EARNED: (TransactionType.POINTS_VOIDED, "points_balance", "points_delta"),
    TransactionType.STAMP_EARNED: (TransactionType.STAMP_VOIDED, "stamp_count", "stamps_delta"),
    TransactionType.POINTS_REDEEMED: (TransactionType.POINTS_REWARD_VOIDED, "points_balance",
                                      "points_delta"),
    TransactionType.STAMP_REDEEMED: (TransactionType.STAMP_REWARD_VOIDED, "stamp_count",
                                     "stamps_delta"),
}
#: Redemptions: their void gives back instead of taking back.
REWARDS = (TransactionType.POINTS_REDEEMED, TransactionType.STAMP_REDEEMED)
NOT_VOIDABLE = _l("This transaction cannot be voided: pick a purchase, stamp or reward of this card.")


def _original(card, original_id, earn_type=None, *, any_age=False, by_pin=False):
    settings = merchant_rows(card.merchant_id).settings
    if not settings.allow_voids:
        raise Refused(_l("Voids are turned off for this shop. Ask the owner to adjust the card."))
    query = select(LoyaltyTransaction).where(
        LoyaltyTransaction.id == original_id,
        LoyaltyTransaction.card_id == card.id,
        LoyaltyTransaction.transaction_type.in_([earn_type] if earn_type else list(VOIDABLE)),
    )
    original = db.session.scalar(query)
    if original is None:
        raise NotFound(NOT_VOIDABLE)
    if not any_age and original.transaction_at < void_deadline(settings):
        if by_pin:
            raise Refused(lazy_ngettext(
                "This was more than %(num)d day ago: only a manager PIN can confirm it.",
                "This was more than %(num)d days ago: only a manager PIN can confirm it.",
                settings.void_window_days))
        raise Refused(lazy_ngettext(
            "This was more than %(num)d day ago: a manager or owner can void it.",
            "This was more than %(num)d days ago: a manager or owner can void it.",
            settings.void_window_days))
    return original


def void_deadline(settings, now=None):
    """The oldest moment staff may still void (a manager's word voids at any age)."""
    return (now or clock.now()) - timedelta(days=settings.void_window_days)


def _amounts(original, gave, requested, balance):
    """(taken, shortfall) for a void of ``requested`` (None = all that is left)."""
    remaining = gave - already_voided(original.id)
    if remaining <= 0:
        raise Refused(_l("This transaction was already voided in full."))
    if original.transaction_type in REWARDS:  # an undo gives back the whole cost, once
        if requested not in (None, remaining):
            raise Refused(lazy_ngettext("A reward is undone whole: %(num)d comes back.",
                                        "A reward is undone whole: %(num)d come back.",
                                        remaining))
        return remaining, 0
    if requested is None:
        requested = remaining
    if requested < 1:
        raise Refused(_l("Void at least 1."))
    if requested > remaining:
        raise Refused(
            _l("At most %(remaining)s can still be voided for this transaction.", remaining=remaining)
        )
    return split_void(requested, balance)


def split_void(requested, balance):
    """(taken, shortfall) for voiding ``requested`` from a card holding ``balance``: the card
    gives up what it holds, at most ``requested``; the rest (spent since) is the shortfall."""
    taken = max(0, min(requested, balance))
    return taken, requested - taken


def may_void_any_age(staff_pin, manages_store):
    """Who confirms a void decides its window: the holder of the PIN typed for it (a manager
    PIN voids at any age, any other PIN within the merchant's void window), or without a PIN
    the signed-in person, by their role at this store (``manages_store``: the owner, or a
    manager of this very store)."""
    return staff_pin.can_unlock if staff_pin is not None else manages_store


def void_transaction(card, original_id, *, amount=None, earn_type=None, context,
                     idempotency_key=None, notes=None, manages_store=False, then=None):
    """Take back (part of) a purchase's points or a stamp of this card, or undo a reward it
    was given, under the card's lock. Rows older than the merchant's void window need a
    manager's word: see ``may_void_any_age``."""

    def action(card, program, staff_pin):
        original = _original(card, original_id, earn_type, by_pin=staff_pin is not None,
                             any_age=may_void_any_age(staff_pin, manages_store))
        void_type, balance, delta = VOIDABLE[original.transaction_type]
        taken, shortfall = _amounts(original, abs(getattr(original, delta)), amount,
                                    getattr(card, balance))
        change = -taken if original.transaction_type not in REWARDS else taken
        change = {"points": change} if delta == "points_delta" else {"stamps": change}
        card.last_activity_at = clock.now()  # a return counts as activity for expiry
        row = append(card, void_type, context, staff_pin=staff_pin,
                     idempotency_key=idempotency_key, related_transaction_id=original.id,
                     void_shortfall=shortfall, notes=notes, **change)
        if void_type == TransactionType.STAMP_VOIDED:
            timezone = db.session.get(Merchant, card.merchant_id).timezone
            stamps_voided(card, original, taken, timezone)
        return row

    return run_card_action(card, context, idempotency_key, action, then=then)


def void_points(card, original_id, *, points=None, context, idempotency_key=None, notes=None,
                manages_store=False):
    """Take back points an earlier purchase earned (a return), bounded by what it gave."""
    return void_transaction(card, original_id, amount=points, context=context,
                            manages_store=manages_store,
                            earn_type=TransactionType.POINTS_EARNED,
                            idempotency_key=idempotency_key, notes=notes)


def void_stamps(card, original_id, *, stamps=None, context, idempotency_key=None, notes=None,
                manages_store=False):
    """Take back stamps an earlier ``stamp_earned`` gave (a return)."""
    return void_transaction(card, original_id, amount=stamps, context=context,
                            manages_store=manages_store,
                            earn_type=TransactionType.STAMP_EARNED,
                            idempotency_key=idempotency_key, notes=notes)
