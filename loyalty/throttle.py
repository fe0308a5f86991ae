"""Attempt budgets for sign-ins, password checks and staff PINs: an attempt is counted before
it is checked.

A rate limiter that counts after the answer lets parallel guesses through: each one is checked
before any is counted. Here an attempt first takes one unit from every budget that applies,
atomically (an INCR in Redis when ``REDIS_URL`` is set, a locked counter in memory otherwise),
and is checked only if every budget still had room. A success gives its units back, so only
failures use a budget up; a unit is given back only to the window that lent it, and a counter
never goes below zero.

    with attempt(sign_in_budgets(email, address)) as tried:
        user = authenticate(email, password)
        if user:
            tried.succeeded()
"""
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app
from limits import parse

from loyalty import metrics
from loyalty.extensions import attempt_counters


@dataclass(frozen=True)
class Budget:
    """``setting`` names the config value ("5 per 5 minutes"); ``key`` says whose attempts."""

    setting: str
    key: str

    @property
    def item(self):
        return parse(current_app.config[self.setting])

    @property
    def period(self):
        return self.item.get_expiry()

    def window(self):
        """Windows are aligned on the clock, so a unit lent by one is never given to the next."""
        return int(time.time() // self.period)

    def storage_key(self, window):
        prefix = current_app.config["RATELIMIT_KEY_PREFIX"]
        return self.item.key_for(prefix, self.setting.lower(), self.key, str(window))

    def seconds_left(self, window):
        return max(1.0, (window + 1) * self.period - time.time())


def sign_in_budgets(email, address):
    """Failed password checks for this account from this address, for this account from
    anywhere, and from this address for any account (a much larger ceiling: a shop's router
    must not lock the owner out because a colleague mistyped)."""
    address = address or "unknown"
    return [
        Budget("LOGIN_ACCOUNT_ADDRESS_LIMIT", f"{email}|{address}"),
        Budget("LOGIN_ACCOUNT_LIMIT", email),
        Budget("LOGIN_ADDRESS_LIMIT", address),
    ]


def join_budgets(address, email):
    """Self-enrollments from one address, and for one email address (bots, and mail bombs)."""
    return [Budget("JOIN_ADDRESS_LIMIT", address or "unknown"),
            Budget("JOIN_EMAIL_LIMIT", (email or "").strip().lower()[:254])]


def reset_budgets(address, email):
    """"Forgot your password?" requests from one address, and for one typed email."""
    return [Budget("PASSWORD_RESET_ADDRESS_LIMIT", address or "unknown"),
            Budget("PASSWORD_RESET_EMAIL_LIMIT", (email or "").strip().lower()[:254])]


def wallet_budgets(address):
    """Calls of the PassKit web service from one address."""
    return [Budget("WALLET_ADDRESS_LIMIT", address or "unknown")]


def pin_budgets(address):
    """Wrong PINs from one terminal address (each PIN also locks itself)."""
    return [Budget("PIN_FAILURE_LIMIT", address or "unknown")]


class TooManyAttempts(Exception):
    """Every budget an attempt needs must have room; ``retry_after`` is in seconds."""

    def __init__(self, retry_after):
        super().__init__(f"retry after {retry_after:.0f} s")
        self.retry_after = retry_after

    @property
    def minutes(self):
        return max(1, math.ceil(self.retry_after / 60))


class Attempt:
    """The units one attempt took, and the windows they came from."""

    def __init__(self, lent):
        self.lent = lent  # [(budget, window)]
        self.success = False

    def succeeded(self):
        self.success = True


def _take(budget):
    """One unit of ``budget``: (granted, window)."""
    window = budget.window()
    count = attempt_counters.storage.incr(budget.storage_key(window), budget.period, amount=1)
    return count <= budget.item.amount, window


def _give_back(lent):
    storage = attempt_counters.storage
    for budget, window in lent:
        key = budget.storage_key(window)
        if storage.get(key) > 0 and storage.incr(key, budget.period, amount=-1) < 0:
            storage.incr(key, budget.period, amount=1)  # the window ended meanwhile: never below 0


def give_back(tried):
    """Return the units an ``Attempt`` took (the work they were spent on did not happen)."""
    _give_back(tried.lent)


def spend(budgets):
    """Count one attempt against each budget and return the ``Attempt``. When any budget is
    used up, the attempt must not be checked: raise ``TooManyAttempts``, giving back the units
    the others lent, so that a refused attempt only counts where the limit was reached."""
    taken = [(budget, *_take(budget)) for budget in budgets]
    refused = [(budget, window) for budget, granted, window in taken if not granted]
    if refused:
        _give_back([(budget, window) for budget, granted, window in taken if granted])
        metrics.ATTEMPTS_REFUSED.labels(refused[0][0].setting).inc()
        raise TooManyAttempts(max(budget.seconds_left(window) for budget, window in refused))
    return Attempt([(budget, window) for budget, _granted, window in taken])


@contextmanager
def attempt(budgets, *, failures=()):
    """Spend on entry (``TooManyAttempts`` when a budget is used up); give the units back on
    leaving if the block called ``succeeded()``, or if it ended in an exception that is not
    one of ``failures`` (the refusals that mean "checked, and wrong"): a server error or a lost
    database connection is no wrong guess, and must not lock anyone out."""
    tried = spend(budgets)
    try:
        yield tried
    except failures:
        raise
    except BaseException:
        tried.succeeded()
        raise
    finally:
        if tried.success:
            _give_back(tried.lent)


def api_budget(key_id):
    """Requests of one API key (every one counts, not only failures)."""
    return Budget("API_RATE_LIMIT", f"api-key-{key_id}")


@dataclass(frozen=True)
class Quota:
    """What a request left of its budget's window: for the ``RateLimit`` headers."""

    limit: int
    remaining: int
    reset: int
    granted: bool


def count_request(budget):
    """Count one request against ``budget``; the window's ``Quota`` (``granted`` False when
    the budget was used up before it)."""
    window = budget.window()
    count = attempt_counters.storage.incr(budget.storage_key(window), budget.period, amount=1)
    limit = budget.item.amount
    return Quota(limit, max(0, limit - count), math.ceil(budget.seconds_left(window)),
                 count <= limit)
