"""A customer's birthday (day and month, never the year), given when joining or on their card's
page, for the program's birthday bonus (``services/engine/bonuses.py``).

Both or neither: a day without a month is refused with a message, as is a day no year has
(31 April); 29 February is accepted (in years without it the bonus comes on 28 February).
Changing the birthday never gives a second bonus for a year already given one. The customer's
export includes it; their erasure wipes it.
"""
from flask_babel import lazy_gettext as _l

from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import Customer
from loyalty.services import audit
from loyalty.services.engine.bonuses import is_valid_birthday
from loyalty.services.errors import InvalidInput, NotFound

BOTH_OR_NEITHER = _l("Choose both the day and the month of your birthday, or neither.")
NO_SUCH_DAY = _l("This day does not exist in that month. Check your birthday.")


def _number(value):
    if value in (None, ""):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        raise InvalidInput(NO_SUCH_DAY, field="birth_day") from None


def parse_birthday(day, month):
    """``(day, month)`` as numbers, or ``(None, None)`` when neither is given; a half-given or
    impossible birthday raises ``InvalidInput`` naming the field to fix."""
    day, month = _number(day), _number(month)
    if day is None and month is None:
        return None, None
    if day is None or month is None:
        raise InvalidInput(BOTH_OR_NEITHER, field="birth_day" if day is None else "birth_month")
    if not is_valid_birthday(day, month):
        raise InvalidInput(NO_SUCH_DAY, field="birth_day")
    return day, month


def set_on(customer, day, month):
    """Set an already parsed birthday on ``customer`` in the caller's transaction; returns
    whether it changed."""
    if (customer.birth_day, customer.birth_month) == (day, month):
        return False
    customer.birth_day, customer.birth_month = day, month
    return True


def change_birthday(card, day, month, *, ip_address=None):
    """The card page: set, change or remove (``None, None``) the birthday of ``card``'s
    customer. Returns whether it changed; an audit entry records that it did (not the date)."""
    day, month = parse_birthday(day, month)
    with write_transaction():
        customer = db.session.get(Customer, card.customer_id, with_for_update=True,
                                  populate_existing=True)
        if customer is None or customer.erased_at is not None:
            raise NotFound(_l("This card has already been deleted."))
        had = customer.birth_day is not None
        changed = set_on(customer, day, month)
        if changed:
            audit.record(audit.Actor(user_id=None, merchant_id=customer.merchant_id,
                                     ip_address=ip_address),
                         "customer.birthday", customer, merchant_id=customer.merchant_id,
                         label=card.card_number,
                         changes={"birthday_given": (had, day is not None)})
    return changed
