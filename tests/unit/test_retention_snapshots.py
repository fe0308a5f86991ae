"""The retention figures as of the end of yesterday, kept once a day (the history is
tests/unit/test_retention.py's; "now" is 15 June 2026 12:00 in Luxembourg, so the figures are
up to the end of 14 June)."""
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from loyalty.extensions import db
from loyalty.jobs.points import merchant_morning
from loyalty.models import RetentionSnapshot, TransactionType
from loyalty.services.customers import my_data
from loyalty.services.merchant import retention_snapshots
from loyalty.services.merchant.retention_snapshots import figures_for
from loyalty.services.platform import pruning
from tests.unit.test_retention import NOW, add_row, at, history, member  # noqa: F401

T = TransactionType
TOMORROW = NOW + timedelta(days=1)


def snapshots():
    db.session.commit()
    return db.session.execute(select(RetentionSnapshot.scope, RetentionSnapshot.day,
                                     RetentionSnapshot.min_visits)
                              .order_by(RetentionSnapshot.id)).all()


def test_the_figures_are_up_to_the_end_of_yesterday_and_kept(merchant, history):
    found = figures_for(merchant.merchant, now=NOW)
    assert (found.up_to, found.computed_at) == (date(2026, 6, 14), NOW)
    assert found.repeat == {30: (1, 3), 90: (2, 3)}
    assert found.median_gap_days == Decimal("8.0")
    assert (found.visits, found.rewards) == (14, 2)
    assert [(r.name, r.visits, r.last_visit) for r in found.regulars] == [
        ("Dan", 6, date(2025, 8, 5))]
    assert snapshots() == [("all", date(2026, 6, 15), 5)]
    again = figures_for(merchant.merchant, now=NOW + timedelta(hours=3))
    assert again == found  # read back whole: months, cohorts, regulars, when computed
    assert len(snapshots()) == 1


def test_a_visit_today_counts_from_tomorrow(merchant, history):
    before = figures_for(merchant.merchant, now=NOW)
    fay, home = history["fay"], merchant.stores[0]
    add_row(fay, T.STAMP_EARNED, at(date(2026, 6, 15), 9), home)  # this morning
    db.session.commit()
    today = figures_for(merchant.merchant, now=NOW)
    assert (today.visits, today.months[-1].visits) == (before.visits, 2) == (14, 2)
    fresh = figures_for(merchant.merchant, now=NOW.replace(hour=23))  # no snapshot: the same
    assert fresh.visits == 14
    tomorrow = figures_for(merchant.merchant, now=TOMORROW)
    assert (tomorrow.up_to, tomorrow.visits, tomorrow.months[-1].visits) == (
        date(2026, 6, 15), 15, 3)
    assert tomorrow.median_gap_days == Decimal("7.0")  # Fay's 5-day gap joins the 10 gaps


def test_a_manager_s_stores_get_their_own_snapshot(merchant, history):
    figures_for(merchant.merchant, now=NOW)
    home = merchant.stores[0].id
    found = figures_for(merchant.merchant, [home], 4, 60, now=NOW)
    assert [r.name for r in found.regulars] == ["Anna"] and found.visits == 8
    assert snapshots() == [("all", date(2026, 6, 15), 5), (str(home), date(2026, 6, 15), 4)]
    assert [r.name for r in figures_for(merchant.merchant, [home], 4, 60, now=NOW).regulars] \
        == ["Anna"]


def test_an_erased_customer_is_not_named_from_a_snapshot(merchant, history):
    assert [r.name for r in figures_for(merchant.merchant, now=NOW).regulars] == ["Dan"]
    my_data.erase(history["dan"])
    found = figures_for(merchant.merchant, now=NOW)
    assert "Dan" not in [r.name for r in found.regulars]
    assert "Dan" not in str(db.session.scalar(select(RetentionSnapshot.data)))


def test_the_morning_keeps_the_owner_s_figures_and_the_prune_deletes_old_ones(
        merchant, history, frozen_clock):
    frozen_clock.set(NOW)
    result = merchant_morning(merchant.merchant.id)
    assert result["retention"] == 1
    assert snapshots() == [("all", date(2026, 6, 15), 5)]
    assert merchant_morning(merchant.merchant.id)["retention"] == 0  # once a day
    frozen_clock.set(NOW + timedelta(days=1))
    assert pruning.prune_all()["retention_snapshots"] == 0  # a day old: kept
    frozen_clock.set(NOW + timedelta(days=2, minutes=1))
    assert pruning.prune_all()["retention_snapshots"] == 1
    assert snapshots() == []


def test_the_same_snapshot_kept_twice_at_once_is_no_error(merchant, history, monkeypatch):
    kept = figures_for(merchant.merchant, now=NOW)
    real_read, calls = retention_snapshots._read, []

    def missed_once(key):  # another request kept it between this one's read and its insert
        calls.append(key)
        return None if len(calls) == 1 else real_read(key)

    monkeypatch.setattr(retention_snapshots, "_read", missed_once)
    found = figures_for(merchant.merchant, now=NOW + timedelta(minutes=5))
    assert found == kept and len(calls) == 2
    assert db.session.scalar(select(func.count()).select_from(RetentionSnapshot)) == 1


def test_just_after_midnight_the_figures_are_computed_but_not_kept(merchant, history):
    just_after = datetime(2026, 6, 15, 0, 20, tzinfo=ZoneInfo("Europe/Luxembourg"))
    found = figures_for(merchant.merchant, now=just_after)
    assert found.up_to == date(2026, 6, 14) and found.visits == 14
    assert snapshots() == []
