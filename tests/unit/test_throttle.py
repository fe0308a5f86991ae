"""Attempt budgets: counted before the check, given back on success, never below zero."""
import pytest

from loyalty.extensions import attempt_counters
from loyalty.throttle import Budget, TooManyAttempts, attempt, spend


@pytest.fixture
def budget(make_app):
    app = make_app(LOGIN_ACCOUNT_LIMIT="3 per minute")
    with app.test_request_context():
        yield Budget("LOGIN_ACCOUNT_LIMIT", "someone@example.com")


def _count(budget, window=None):
    return attempt_counters.storage.get(budget.storage_key(budget.window() if window is None else window))


def test_failures_use_the_budget_up_and_the_refusal_says_how_long(budget):
    for _ in range(3):
        with attempt([budget]):
            pass  # a failed check
    with pytest.raises(TooManyAttempts) as pause:
        spend([budget])
    assert 1 <= pause.value.minutes <= 1 and pause.value.retry_after <= 60


def test_a_success_gives_its_unit_back(budget):
    for _ in range(5):
        with attempt([budget]) as tried:
            tried.succeeded()
    assert _count(budget) == 0


def test_a_unit_lent_by_an_ended_window_is_not_given_back(budget, monkeypatch):
    """Giving back into the next window would let an attacker straddle windows for extra tries."""
    with attempt([budget]) as tried:
        lent_from = budget.window()
        attempt_counters.storage.clear(budget.storage_key(lent_from))  # that window ends during the check
        monkeypatch.setattr(Budget, "window", lambda self: lent_from + 1)
        with attempt([budget]):
            pass  # a failure in the new window
        tried.succeeded()
    assert _count(budget) == 1
    assert _count(budget, lent_from) == 0  # and the ended one is not below zero


def test_a_refused_attempt_counts_only_where_the_limit_was_reached(make_app):
    app = make_app(LOGIN_ACCOUNT_ADDRESS_LIMIT="1 per minute")
    with app.test_request_context():
        tight = Budget("LOGIN_ACCOUNT_ADDRESS_LIMIT", "a|1.2.3.4")
        wide = Budget("LOGIN_ADDRESS_LIMIT", "1.2.3.4")
        spend([tight, wide])
        for _ in range(3):
            with pytest.raises(TooManyAttempts):
                spend([tight, wide])
        assert _count(wide) == 1
