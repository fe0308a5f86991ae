"""Retention figures equal hand computations on a small history (Europe/Luxembourg, "now" is
2026-06-15 12:00 local: the window runs from June 2025 to June 2026).

    Anna  joined 10 Jan 2026; visits 10 Jan (twice that day), 20 Jan, 15 Feb, 1 Mar; a stamp
          reward on 15 Feb
    Ben   joined 25 Jan 2026; visits 25 Jan, 20 Apr (day 85); a catalogue reward on 20 Apr
    Cleo  joined 3 Feb 2026; never came (a voided stamp on 5 Mar is no visit)
    Dan   joined March 2025 at store 2; visits weekly 1 Jul - 5 Aug 2025 (6), at store 2
    Fay   joined 1 Jun 2026; visits 1 Jun and 10 Jun; a reward on 10 Jun given then undone
"""
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from loyalty.extensions import db
from loyalty.models import LoyaltyTransaction, TransactionType
from loyalty.services.merchant import retention
from loyalty.services.merchant.local_days import offset_changes
from tests import factories

T = TransactionType
LUX = ZoneInfo("Europe/Luxembourg")
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=LUX)


def at(day, hour=12, minute=0):
    return datetime.combine(day, time(hour, minute), LUX)


def add_row(card, kind, moment, store):
    db.session.add(LoyaltyTransaction(
        merchant_id=card.merchant_id, card_id=card.id, store_id=store.id, transaction_type=kind,
        stamps_delta=0, points_delta=0, stamps_balance_after=0, points_balance_after=0,
        transaction_at=moment))


def member(merchant, name, joined, store, rows):
    card = factories.card(merchant.merchant, name, store=store)
    card.created_at = joined
    for kind, moment in rows:
        add_row(card, kind, moment, store)
    db.session.commit()
    return card


@pytest.fixture
def history(merchant):
    home, other = merchant.stores
    factories.hybrid_program(merchant.merchant)
    cards = {
        "anna": member(merchant, "Anna", at(date(2026, 1, 10), 9), home, [
            (T.STAMP_EARNED, at(date(2026, 1, 10), 9)),
            (T.POINTS_EARNED, at(date(2026, 1, 10), 18)),
            (T.STAMP_EARNED, at(date(2026, 1, 20))), (T.POINTS_EARNED, at(date(2026, 2, 15))),
            (T.STAMP_REDEEMED, at(date(2026, 2, 15))), (T.STAMP_EARNED, at(date(2026, 3, 1)))]),
        "ben": member(merchant, "Ben", at(date(2026, 1, 25)), home, [
            (T.POINTS_EARNED, at(date(2026, 1, 25))), (T.POINTS_EARNED, at(date(2026, 4, 20))),
            (T.POINTS_REDEEMED, at(date(2026, 4, 20)))]),
        "cleo": member(merchant, "Cleo", at(date(2026, 2, 3)), home, [
            (T.STAMP_VOIDED, at(date(2026, 3, 5)))]),
        "dan": member(merchant, "Dan", at(date(2025, 3, 1)), other, [
            (T.STAMP_EARNED, at(date(2025, 7, 1 + 7 * week))) for week in range(5)]
            + [(T.STAMP_EARNED, at(date(2025, 8, 5)))]),
        "fay": member(merchant, "Fay", at(date(2026, 6, 1)), home, [
            (T.STAMP_EARNED, at(date(2026, 6, 1))), (T.POINTS_EARNED, at(date(2026, 6, 10))),
            (T.POINTS_REDEEMED, at(date(2026, 6, 10))),
            (T.POINTS_REWARD_VOIDED, at(date(2026, 6, 10), 13))]),
    }
    return cards


def figures(merchant, **options):
    return retention.retention(merchant.merchant, now=NOW, **options)


def test_repeat_rate_within_30_and_90_days_of_joining(merchant, history):
    found = figures(merchant)
    # joined long enough ago: Anna, Ben, Cleo (Fay joined 14 days ago, Dan before the window)
    assert found.repeat == {30: (1, 3), 90: (2, 3)}  # Anna within 30; Anna and Ben within 90
    assert found.repeat_rate(30) == Decimal("33.3") and found.repeat_rate(90) == Decimal("66.7")


def test_visits_per_active_member_per_month(merchant, history):
    months = {m.start: (m.visits, m.active, m.per_active) for m in figures(merchant).months}
    assert len(months) == 13 and min(months) == date(2025, 6, 1) and max(months) == date(2026, 6, 1)
    assert months[date(2025, 7, 1)] == (5, 1, Decimal("5.0"))
    assert months[date(2025, 8, 1)] == (1, 1, Decimal("1.0"))
    assert months[date(2026, 1, 1)] == (3, 2, Decimal("1.5"))  # Anna's two rows of 10 Jan: one
    assert months[date(2026, 3, 1)] == (1, 1, Decimal("1.0"))  # Cleo's voided stamp: no visit
    assert months[date(2026, 6, 1)] == (2, 1, Decimal("2.0"))
    assert months[date(2026, 5, 1)] == (0, 0, Decimal("0"))


def test_median_days_between_visits(merchant, history):
    # gaps: Anna 10, 26, 14; Ben 85; Dan 7 x 5; Fay 9 -> 7 7 7 7 7 | 9 10 14 26 85
    assert figures(merchant).median_gap_days == Decimal("8.0")


def test_join_cohorts(merchant, history):
    cohorts = {c.start: c for c in figures(merchant).cohorts}
    january = cohorts[date(2026, 1, 1)]
    assert january.joined == 2
    assert [january.share(n) for n in range(7)] == [
        Decimal(100), Decimal(50), Decimal(50), Decimal(50), Decimal(0), Decimal(0), None]
    assert cohorts[date(2026, 2, 1)].joined == 1
    assert [cohorts[date(2026, 2, 1)].share(n) for n in range(6)] == [Decimal(0)] * 5 + [None]
    assert cohorts[date(2026, 6, 1)].share(0) == Decimal(100)
    assert cohorts[date(2026, 6, 1)].share(1) is None
    assert cohorts[date(2025, 6, 1)].joined == 0  # Dan joined before the window


def test_rewards_per_100_visits(merchant, history):
    found = figures(merchant)
    assert (found.visits, found.rewards) == (14, 2)  # Fay's undone reward counts for nothing
    assert found.rewards_per_100_visits == Decimal("14.3")


def test_regulars_who_stopped_coming(merchant, history):
    found = figures(merchant)
    assert [(r.name, r.visits, r.last_visit) for r in found.regulars] == [
        ("Dan", 6, date(2025, 8, 5))]
    assert found.regulars_total == 1
    found = figures(merchant, min_visits=4, away_days=60)  # Anna's last visit: 1 Mar
    assert [(r.name, r.visits) for r in found.regulars] == [("Dan", 6), ("Anna", 4)]
    assert [r.card_id for r in found.regulars] == [history["dan"].id, history["anna"].id]
    assert figures(merchant, min_visits=4, away_days=320).regulars == []


def test_a_manager_sees_their_stores_only(merchant, history):
    found = figures(merchant, store_ids=[merchant.stores[0].id], min_visits=4)
    assert [r.name for r in found.regulars] == ["Anna"]
    assert found.visits == 8 and found.months[1].visits == 0  # Dan's July was at store 2


def test_a_visit_is_a_day_on_the_merchant_clock_across_summer_time(merchant):
    """23:30 and 00:30 local are two days though they are one UTC day (22:30 and 23:30 UTC in
    winter, 21:30 and 22:30 in summer): four visits."""
    factories.stamp_program(merchant.merchant)
    home = merchant.stores[0]
    member(merchant, "Nora Night", at(date(2026, 3, 1)), home, [
        (T.STAMP_EARNED, at(date(2026, 3, 10), 23, 30)),
        (T.STAMP_EARNED, at(date(2026, 3, 11), 0, 30)),
        (T.STAMP_EARNED, at(date(2026, 4, 10), 23, 30)),
        (T.STAMP_EARNED, at(date(2026, 4, 11), 0, 30))])
    found = figures(merchant)
    assert [(m.visits, m.active) for m in found.months if m.visits] == [(2, 1), (2, 1)]
    assert found.median_gap_days == Decimal("1.0")  # gaps 1, 30, 1


def test_offset_changes_are_found_to_the_second():
    changes = offset_changes("Europe/Luxembourg", at(date(2026, 1, 1)), at(date(2026, 12, 1)))
    assert [(moment.isoformat(), offset) for moment, offset in changes] == [
        ("2026-01-01T11:00:00+00:00", 3600), ("2026-03-29T01:00:00+00:00", 7200),
        ("2026-10-25T01:00:00+00:00", 3600)]
