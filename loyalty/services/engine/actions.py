"""The frame every counter action runs in: staff PIN, lock, rules, ledger row, panel.

1. A staff PIN, when given, is verified first (one bcrypt check, outside any lock); a
   retried request with a PIN replays without a second check.
2. One write transaction locks the card (the first read of it: nothing is read before the
   lock), checks that card and program are active and that a required PIN was given (an API
   call needs none: its key is the credential, ``ActionContext.api_key_id``), runs the
   action's own rules and ledger writes, and reads what the page shows next, before it commits.
3. A retried request (or a double tap, once the first tap's lock is released) gets the first
   answer back unchanged. The ledger insert's unique idempotency key carries that check, so a
   first request pays nothing for it: a retry either collides on the key, or is refused by the
   rules (a cooldown, a spent balance), and only then is the earlier row looked up.
"""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import LoyaltyCard
from loyalty.services.engine.ledger import ActionResult, find_replay, lock_card
from loyalty.services.engine.merchant_cache import merchant_rows
from loyalty.services.engine.staff_pins import verify_staff_pin
from loyalty.services.errors import DomainError, PinRequired, Refused


@dataclass(frozen=True)
class CardRef:
    """A card named by id (or, with no id, by its normalised ``number`` or its QR ``token``)
    within a merchant, not read yet: the action reads it under its lock (a card of another
    merchant, or deleted, is "not found" there)."""

    id: int | None
    merchant_id: int
    number: str | None = None
    token: str | None = None


def _replay(card_id, merchant_id, idempotency_key):
    previous = find_replay(merchant_id, idempotency_key, card_id)
    if previous is None:
        return None
    return ActionResult(previous, db.session.get(LoyaltyCard, card_id), replayed=True)


def _pin_given(context):
    return bool(context.pin) or context.staff_pin_id is not None


def run_card_action(card, context, idempotency_key, action, *, then=None, staff_pin=None):
    """Run ``action(card, program, staff_pin) -> LoyaltyTransaction`` under the card's lock.

    ``card`` is a LoyaltyCard or a CardRef. A PIN, when given, is checked (bcrypt) before the
    lock is taken, so the lock is held for milliseconds; a program that requires a PIN refuses
    inside the lock when none came. ``staff_pin`` is one already checked for a whole batch (a
    tablet back online): the context then carries no PIN. ``then(card)``, if given, runs under
    the lock after the action and its answer is kept in the result's ``extra["then"]``.
    """
    card_id, merchant_id = card.id, card.merchant_id
    by_ref = isinstance(card, CardRef) and card_id is None
    number, token = (card.number, card.token) if by_ref else (None, None)
    if _pin_given(context):
        replay = _replay(card_id, merchant_id, idempotency_key) if card_id else None
        if replay is not None:
            return replay  # a retried request does not cost another PIN check
        staff_pin = verify_staff_pin(merchant_id, context.store_id, context.pin,
                                     staff_pin_id=context.staff_pin_id)
    try:
        with write_transaction():
            locked = lock_card(card_id, merchant_id, number=number, token=token)
            card_id = locked.id
            program = merchant_rows(merchant_id).program
            if program is None or not program.is_active or program.id != locked.program_id:
                raise Refused(_l("The loyalty program is not active at the moment."))
            if program.require_staff_pin and staff_pin is None and context.api_key_id is None:
                raise PinRequired(_l("Enter your staff PIN to continue."))
            if not locked.is_active:
                raise Refused(_l("This card is deactivated. Reactivate it in the card's settings first."))
            result = ActionResult(action(locked, program, staff_pin), locked)
            if then is not None:
                result.extra["then"] = then(locked)
    except IntegrityError:
        replay = _replay(card_id, merchant_id, idempotency_key) if card_id else None
        if replay is None:
            raise
        return replay
    except DomainError:
        replay = (_replay(card_id, merchant_id, idempotency_key)
                  if idempotency_key and card_id else None)
        if replay is None:
            raise
        return replay
    return result
