"""Domain errors. Services raise them; blueprints map them to a message and a status in one place.

Messages are lazy translations, rendered in the locale of whoever reads them.
"""
from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """A refusal the user can act on; ``message`` says what happened and what to do."""

    status_code = 400
    #: The problem type an API caller branches on (``urn:loyalty:problem:<slug>``); None
    #: takes the status's.
    problem_type = None

    def __init__(self, message, **details):
        super().__init__(str(message))
        self.message = message
        self.details = details


class NotFound(DomainError):
    """Missing, deleted, or another merchant's: the caller cannot tell which."""

    status_code = 404
    problem_type = "not-found"


class PermissionDenied(DomainError):
    status_code = 403
    problem_type = "forbidden"


class Conflict(DomainError):
    """The request clashes with existing data (a duplicate email, a second card ...)."""

    status_code = 409
    problem_type = "conflict"


class InvalidInput(DomainError):
    status_code = 422
    problem_type = "invalid-request"


class CardNotFound(NotFound):
    """No card answers the lookup at this merchant (or it is another merchant's)."""

    problem_type = "card-not-found"


NO_CARD = _l("No card found. Check the number or search by email or phone.")


class Refused(DomainError):
    """A loyalty rule refuses the action; ``message`` says why and when it will work."""

    status_code = 409
    problem_type = "refused"


class PinRequired(Refused):
    status_code = 401


class WrongPin(Refused):
    status_code = 401


class PinLocked(Refused):
    status_code = 423


#: The refusals of a PIN that was checked: only these spend the attempt budgets (a missing
#: PIN, a refused card or a server error is no guess).
PIN_REFUSALS = (WrongPin, PinLocked)
