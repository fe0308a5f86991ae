"""Domain errors. Services raise them; blueprints map them to a message and a status in one place.

Messages are lazy translations, rendered in the locale of whoever reads them.
"""
from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """A refusal the user can act on; ``message`` says what happened and what to do."""

    status_code = 400

    def __init__(self, message, **details):
        super().__init__(str(message))
        self.message = message
        self.details = details


class NotFound(DomainError):
    """Missing, deleted, or another merchant's: the caller cannot tell which."""

    status_code = 404


class PermissionDenied(DomainError):
    status_code = 403


class Conflict(DomainError):
    """The request clashes with existing data (a duplicate email, a second card ...)."""

    status_code = 409


class InvalidInput(DomainError):
    status_code = 422


class CardNotFound(NotFound):
    """No card answers the lookup at this merchant (or it is another merchant's)."""


NO_CARD = _l("No card found. Check the number or search by email or phone.")


class Refused(DomainError):
    """A loyalty rule refuses the action; ``message`` says why and when it will work."""

    status_code = 409


class PinRequired(Refused):
    status_code = 401


class WrongPin(Refused):
    status_code = 401


class PinLocked(Refused):
    status_code = 423


#: The refusals of a PIN that was checked: only these spend the attempt budgets (a missing
#: PIN, a refused card or a server error is no guess).
PIN_REFUSALS = (WrongPin, PinLocked)
