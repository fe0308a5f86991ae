"""The frame every counter action runs in: replay, staff PIN, lock, rules, ledger row.

1. A retried request (same idempotency key) gets the first answer back, unchanged.
2. If the program requires it, the staff PIN is verified (one bcrypt check).
3. One write transaction locks the card, checks the key again (a double tap waits for the
   first tap's lock, then replays it), checks that card and program are active, and runs
   the action's own rules and ledger writes.
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import LoyaltyCard
from loyalty.services.errors import PinRequired, Refused
from loyalty.services.ledger import ActionResult, find_replay, lock_card
from loyalty.services.programs import live_program
from loyalty.services.staff_pins import verify_staff_pin


def _replay(card_id, merchant_id, idempotency_key):
    previous = find_replay(merchant_id, idempotency_key)
    if previous is None:
        return None
    return ActionResult(previous, db.session.get(LoyaltyCard, card_id), replayed=True)


def authorize_staff(program, context, merchant_id):
    """The verified StaffPin when the program requires one (or one was given), else None."""
    if context.pin is None and context.staff_pin_id is None:
        if program is not None and program.require_staff_pin:
            raise PinRequired(_l("Enter your staff PIN to continue."))
        return None
    store_id = context.store_id
    return verify_staff_pin(merchant_id, store_id, context.pin, staff_pin_id=context.staff_pin_id)


def run_card_action(card, context, idempotency_key, action):
    """Run ``action(card, program, staff_pin) -> LoyaltyTransaction`` under the card's lock."""
    card_id, merchant_id = card.id, card.merchant_id
    replay = _replay(card_id, merchant_id, idempotency_key)
    if replay is not None:
        return replay
    staff_pin = authorize_staff(live_program(merchant_id), context, merchant_id)
    try:
        with write_transaction():
            locked = lock_card(card_id)
            replay = _replay(card_id, merchant_id, idempotency_key)
            if replay is not None:
                return replay
            program = live_program(merchant_id)
            if program is None or not program.is_active or program.id != locked.program_id:
                raise Refused(_l("The loyalty program is not active at the moment."))
            if not locked.is_active:
                raise Refused(_l("This card is deactivated. Reactivate it in the card's settings first."))
            transaction = action(locked, program, staff_pin)
    except IntegrityError:
        replay = _replay(card_id, merchant_id, idempotency_key)
        if replay is None:
            raise
        return replay
    return ActionResult(transaction, locked)
