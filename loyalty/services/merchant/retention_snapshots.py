"""The retention figures as of the end of yesterday, computed once a day and kept.

Reading the ledger's window (13 months of visit rows) takes over a second at a million rows,
too slow for a page. So the figures are those "up to the end of yesterday": computed with
``now`` the merchant's local midnight today, kept in ``retention_snapshots`` per merchant,
scope (``"all"`` or a manager's stores), local day, time zone, N and M, and read from there
for the rest of the day. The ledger is append-only and a row's day is when it arrived
(``transaction_at``), so yesterday's figures never change: a snapshot is exact, not a stale
cache; a visit made today counts from tomorrow.

The morning run (``jobs/points.merchant_morning``) computes the owner's default figures
(``"all"``, N=5, M=60) so the owner's first visit of the day is fast; a manager's scope or
other N and M are computed on their first request of the day. A snapshot holds the regulars'
card ids only: names and card numbers are read when shown (``retention.name``), so an erased
or deleted customer is never shown from it. The daily prune deletes them after two days
(``platform/pruning.prune_retention_snapshots``).

A snapshot is kept only once the day before has been over for ``SETTLE`` (no transaction
stays open that long, as for ``ledger_days``): before that the figures are computed each time.
"""
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from loyalty import clock
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import Merchant, RetentionSnapshot
from loyalty.services.merchant import retention
from loyalty.services.merchant.local_days import local_midnight
from loyalty.services.merchant.retention import Cohort, Month, Regular, Retention

DEFAULT_MIN_VISITS, DEFAULT_AWAY_DAYS = 5, 60
SETTLE = timedelta(hours=1)


def scope_of(store_ids):
    """``"all"`` for the owner, else the store ids sorted: ``"3,7"``."""
    return "all" if store_ids is None else ",".join(str(i) for i in sorted(set(store_ids)))


def figures_for(merchant, store_ids=None, min_visits=DEFAULT_MIN_VISITS,
                away_days=DEFAULT_AWAY_DAYS, now=None):
    """The figures up to the end of yesterday on the merchant's clock, with the regulars named
    as they are now: the day's snapshot, computed and kept if there is none yet."""
    figures = _snapshot(merchant, store_ids, min_visits, away_days, now)
    figures.regulars_total -= retention.name(figures.regulars)
    return figures


def _snapshot(merchant, store_ids, min_visits, away_days, now=None):
    now = now or clock.now()
    day = retention.local_today(merchant.timezone, now)
    key = dict(merchant_id=merchant.id, scope=scope_of(store_ids), day=day,
               timezone=merchant.timezone, min_visits=min_visits, away_days=away_days)
    found = _read(key)
    if found is not None:
        return found
    midnight = local_midnight(merchant.timezone, day)
    figures = retention.retention(merchant, store_ids=store_ids, min_visits=min_visits,
                                  away_days=away_days, now=midnight, named=False)
    figures.up_to, figures.computed_at = day - timedelta(days=1), now
    if now >= midnight + SETTLE and not _insert(key, figures):
        return _read(key)  # computed at the same time elsewhere: the same figures
    return figures


def _read(key):
    row = db.session.execute(select(RetentionSnapshot.data, RetentionSnapshot.computed_at)
                             .filter_by(**key)).first()
    return None if row is None else load(row.data, key["day"], row.computed_at)


def _insert(key, figures):
    """Keep ``figures``; False when the same snapshot was kept meanwhile (nothing done)."""
    insert = (postgresql.insert if db.session.get_bind().dialect.name == "postgresql"
              else sqlite.insert)
    with write_transaction():
        done = db.session.execute(
            insert(RetentionSnapshot).values(**key, computed_at=figures.computed_at,
                                             data=dump(figures))
            .on_conflict_do_nothing()).rowcount
    return done == 1


def dump(figures):
    """The figures as JSON (the regulars without their names)."""
    return {
        "months": [[m.start.isoformat(), m.visits, m.active] for m in figures.months],
        "cohorts": [[c.start.isoformat(), c.joined, c.months, sorted(c.active.items())]
                    for c in figures.cohorts],
        "repeat": [[days, *pair] for days, pair in figures.repeat.items()],
        "median": None if figures.median_gap_days is None else str(figures.median_gap_days),
        "visits": figures.visits, "rewards": figures.rewards,
        "regulars": [[r.card_id, r.visits, r.last_visit.isoformat()] for r in figures.regulars],
        "regulars_total": figures.regulars_total,
    }


def load(data, day, computed_at):
    return Retention(
        months=[Month(date.fromisoformat(start), visits, active)
                for start, visits, active in data["months"]],
        cohorts=[Cohort(date.fromisoformat(start), joined, dict(map(tuple, active)), months)
                 for start, joined, months, active in data["cohorts"]],
        repeat={days: (back, eligible) for days, back, eligible in data["repeat"]},
        median_gap_days=None if data["median"] is None else Decimal(data["median"]),
        visits=data["visits"], rewards=data["rewards"],
        regulars=[Regular(card_id, visits, date.fromisoformat(last))
                  for card_id, visits, last in data["regulars"]],
        regulars_total=data["regulars_total"],
        up_to=day - timedelta(days=1), computed_at=computed_at)


def morning(merchant_id, now=None):
    """The morning step: the owner's default figures for today. Returns 1 when computed
    now, 0 when they already were."""
    merchant = db.session.get(Merchant, merchant_id)
    if merchant is None:
        return 0
    key = dict(merchant_id=merchant_id, scope="all",
               day=retention.local_today(merchant.timezone, now or clock.now()),
               timezone=merchant.timezone, min_visits=DEFAULT_MIN_VISITS,
               away_days=DEFAULT_AWAY_DAYS)
    if _read(key) is not None:
        return 0
    _snapshot(merchant, None, DEFAULT_MIN_VISITS, DEFAULT_AWAY_DAYS, now)
    return 1

