"""Attempt budgets for sign-ins and staff PINs: an attempt is counted before it is checked.

A rate limiter that counts after the answer lets parallel guesses through: each one is checked
before any is counted. Here an attempt first takes one unit from every budget that applies,
atomically (an INCR in Redis when ``REDIS_URL`` is set, a locked counter in memory otherwise),
and is checked only if every budget still had room. A success gives its units back, so only
failures use a budget up.
"""
import math
import time
from dataclasses import dataclass

from flask import current_app
from limits import parse

from loyalty.extensions import limiter


@dataclass(frozen=True)
class Budget:
    """``setting`` names the config value ("5 per 5 minutes"); ``key`` says whose attempts."""

    setting: str
    key: str

    @property
    def item(self):
        return parse(current_app.config[self.setting])

    @property
    def identifiers(self):
        return (current_app.config["RATELIMIT_KEY_PREFIX"], self.setting.lower(), self.key)

    def seconds_left(self):
        stats = limiter.limiter.get_window_stats(self.item, *self.identifiers)
        return max(1, stats.reset_time - time.time())


class TooManyAttempts(Exception):
    """Every budget an attempt needs must have room; ``retry_after`` is in seconds."""

    def __init__(self, retry_after):
        super().__init__(f"retry after {retry_after:.0f} s")
        self.retry_after = retry_after

    @property
    def minutes(self):
        return max(1, math.ceil(self.retry_after / 60))


def spend(budgets):
    """Count one attempt against each budget. When any is used up, the attempt must not be
    checked: raise ``TooManyAttempts``, giving back the units the others lent, so that a
    refused attempt only counts where the limit was reached."""
    strategy = limiter.limiter
    granted = [budget for budget in budgets if strategy.hit(budget.item, *budget.identifiers)]
    if len(granted) < len(budgets):
        refund(granted)
        exhausted = [budget for budget in budgets if budget not in granted]
        raise TooManyAttempts(max(budget.seconds_left() for budget in exhausted))


def refund(budgets):
    """Give back the unit a successful attempt took."""
    for budget in budgets:
        item = budget.item
        limiter.storage.incr(item.key_for(*budget.identifiers), item.get_expiry(), amount=-1)
