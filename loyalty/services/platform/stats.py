"""The platform's figures for the back office: the dashboard and the list of programs.

The dashboard runs a fixed handful of grouped statements whatever the number of merchants:
the programs; the cards (counts, balances and lifetime counters, per program, for the
liability); the ledger per day and kind for the last 30 days and all time from the closed
days' sums (``ledger_days``) plus the ledger rows since; the same per merchant for the
movers. Closed days are summed once (``close_days``) in a set-based INSERT ... SELECT.
The passes over the cards, the movers' names and the list of programs read through
``replica_session`` (the read replica when there is one); the ledger's reads stay on the
primary: they follow ``close_days``, whose sums they must see.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Numeric, case, cast, func, select, text, union_all

from loyalty import clock
from loyalty.database import replica_session, without_jit, write_transaction
from loyalty.extensions import db
from loyalty.models import (
    LedgerDay,
    LoyaltyCard,
    LoyaltyProgram,
    LoyaltyTransaction,
    Merchant,
    ProgramType,
    TransactionType,
)
from loyalty.services.merchant.stats import GIVEN, liability_cents

T = TransactionType
WINDOW_DAYS = 30
#: A day is summed once it has been over this long: no transaction stays open that long.
SETTLE = timedelta(hours=1)
#: (figure, kinds, which sum, sign) over the ledger's day sums. Stamps and points given are
#: net of voids, as on the merchants' own statistics (``stats.GIVEN``).
FIGURES = {
    "points_issued": (GIVEN["points"], "points", 1),
    "points_redeemed": ((T.POINTS_REDEEMED, T.POINTS_REWARD_VOIDED), "points", -1),
    "points_expired": ((T.POINTS_EXPIRED,), "points", -1),
    "stamps_issued": (GIVEN["stamps"], "stamps", 1),
}
#: Transactions that are a customer's visit, not bookkeeping (counted in the activity).
ACTIVITY = {T.STAMP_EARNED, T.STAMP_REDEEMED, T.POINTS_EARNED, T.POINTS_REDEEMED}
MOVERS = 5
#: The ``merchant_id`` of the row that marks the last day summed (it sums nothing).
SUMMED_THROUGH = 0
PROGRAM_PAGE = 50
PROGRAM_SORTS = ("merchant", "members", "active", "issued", "redeemed", "liability")


@dataclass
class Dashboard:
    programs: int = 0
    active_programs: int = 0
    merchants_with_program: int = 0
    cards: int = 0
    active_cards: int = 0
    new_cards_this_month: int = 0
    outstanding_points: int = 0
    open_stamps: int = 0
    #: {currency: cents}
    liability: dict = field(default_factory=dict)
    recent: dict = field(default_factory=dict)  # figure -> last 30 days
    all_time: dict = field(default_factory=dict)
    days: list = field(default_factory=list)  # (date, transactions, points issued)
    growing: list = field(default_factory=list)  # (merchant name, before, now)
    falling: list = field(default_factory=list)


def _day_start(day):
    return datetime.combine(day, time(), UTC)


def last_closed_day(now):
    """The newest UTC day whose rows can no longer change."""
    return (now - SETTLE).date() - timedelta(days=1)


def close_days(now=None):
    """Sum every closed day not yet summed; returns the last day summed, or None when there
    was nothing to do. Idempotent and safe when two run at once (the second finds the days
    done under the table's lock)."""
    now = now or clock.now()
    last = last_closed_day(now)
    done = db.session.scalar(select(func.max(LedgerDay.day)))
    db.session.commit()
    if done is not None and done >= last:
        return None
    L = LoyaltyTransaction
    with write_transaction():
        if _postgresql():
            db.session.execute(text("LOCK TABLE ledger_days IN SHARE ROW EXCLUSIVE MODE"))
        done = db.session.scalar(select(func.max(LedgerDay.day)))
        if done is not None and done >= last:
            return None
        first = done + timedelta(days=1) if done is not None else None
        day = _utc_day(L.transaction_at)
        rows = (select(day.label("day"), L.merchant_id, L.transaction_type,
                       func.count().label("rows"), func.sum(L.stamps_delta).label("stamps"),
                       func.sum(L.points_delta).label("points"))
                .where(L.transaction_at < _day_start(last + timedelta(days=1)))
                .group_by(day, L.merchant_id, L.transaction_type))
        if first is not None:
            rows = rows.where(L.transaction_at >= _day_start(first))
        db.session.execute(LedgerDay.__table__.insert().from_select(
            ["day", "merchant_id", "transaction_type", "rows", "stamps", "points"], rows))
        # Days without any transaction leave no row: a marker says how far the sums go.
        db.session.add(LedgerDay(day=last, merchant_id=SUMMED_THROUGH, transaction_type="",
                                 rows=0, stamps=0, points=0))
    return last


def forget_days():
    """Drop the day sums (after rows were written with past times, as the demo data is):
    the next dashboard sums the closed days again."""
    with write_transaction():
        db.session.execute(LedgerDay.__table__.delete())


def _postgresql():
    return db.session.get_bind().dialect.name == "postgresql"


def _utc_day(column):
    """The UTC date of a timestamp (PostgreSQL's date() would use the session's time zone)."""
    return func.date(func.timezone("UTC", column)) if _postgresql() else func.date(column)


def _ledger_since(since_day, now):
    """(day, merchant_id, transaction_type, rows, stamps, points) from ``since_day`` on, as a
    subquery: the closed days' sums, then the ledger's own rows after them."""
    last = last_closed_day(now)
    summed = (select(LedgerDay.day, LedgerDay.merchant_id, LedgerDay.transaction_type,
                     LedgerDay.rows, LedgerDay.stamps, LedgerDay.points)
              .where(LedgerDay.day >= since_day, LedgerDay.day <= last,
                     LedgerDay.merchant_id != SUMMED_THROUGH))
    L = LoyaltyTransaction
    day = _utc_day(L.transaction_at)
    fresh = (select(day.label("day"), L.merchant_id, L.transaction_type,
                    func.count().label("rows"), func.sum(L.stamps_delta).label("stamps"),
                    func.sum(L.points_delta).label("points"))
             .where(L.transaction_at >= _day_start(max(since_day, last + timedelta(days=1))))
             .group_by(day, L.merchant_id, L.transaction_type))
    return union_all(summed, fresh).subquery()


def _as_date(value):
    return date.fromisoformat(value) if isinstance(value, str) else value  # SQLite: text


def _all_time(now):
    """{kind: (rows, stamps, points)} over the whole ledger: the sums of the days closed as of
    ``now``, then the ledger's rows after them (both bounded by the same day, whatever another
    dashboard sums meanwhile)."""
    last = last_closed_day(now)
    L = LoyaltyTransaction
    summed = db.session.execute(
        select(LedgerDay.transaction_type, func.sum(LedgerDay.rows), func.sum(LedgerDay.stamps),
               func.sum(LedgerDay.points))
        .where(LedgerDay.merchant_id != SUMMED_THROUGH, LedgerDay.day <= last)
        .group_by(LedgerDay.transaction_type)).all()
    fresh = db.session.execute(
        select(L.transaction_type, func.count(), func.sum(L.stamps_delta),
               func.sum(L.points_delta))
        .where(L.transaction_at >= _day_start(last + timedelta(days=1)))
        .group_by(L.transaction_type)).all()
    totals = defaultdict(lambda: [0, 0, 0])
    for kind, rows, stamps, points in (*summed, *fresh):
        total = totals[T(kind)]
        total[0] += rows or 0
        total[1] += stamps or 0
        total[2] += points or 0
    return totals


def _figures(by_kind):
    figures = {"transactions": sum(rows for rows, _s, _p in by_kind.values())}
    for name, (kinds, which, sign) in FIGURES.items():
        index = 1 if which == "stamps" else 2
        figures[name] = sign * sum(by_kind.get(kind, (0, 0, 0))[index] for kind in kinds)
    return figures


def _program_cards(month_start):
    """Per live program: (program, currency, cards, active cards, new this month, points on
    cards, stamps on cards): one pass over the cards."""
    C = LoyaltyCard
    per_program = (select(C.program_id, func.count().label("cards"),
                          func.count().filter(C.is_active.is_(True)).label("active"),
                          func.count().filter(C.created_at >= month_start).label("new"),
                          func.coalesce(func.sum(C.points_balance), 0).label("points"),
                          func.coalesce(func.sum(C.stamp_count), 0).label("stamps"))
                   .group_by(C.program_id).subquery())
    return without_jit(replica_session()).execute(
        select(LoyaltyProgram, Merchant.currency, per_program.c.cards, per_program.c.active,
               per_program.c.new, per_program.c.points, per_program.c.stamps)
        .join(Merchant, Merchant.id == LoyaltyProgram.merchant_id)
        .outerjoin(per_program, per_program.c.program_id == LoyaltyProgram.id)).all()


def dashboard(now=None):
    now = now or clock.now()
    close_days(now)
    without_jit(db.session)  # the reads below: sums over many rows
    board = Dashboard()
    today = now.date()
    month_start = _day_start(today.replace(day=1))
    liability = defaultdict(Decimal)
    merchants = set()
    for program, currency, cards, active, new, points, stamps in _program_cards(month_start):
        board.programs += 1
        board.active_programs += program.is_active
        merchants.add(program.merchant_id)
        board.cards += cards or 0
        board.active_cards += active or 0
        board.new_cards_this_month += new or 0
        board.outstanding_points += points or 0
        board.open_stamps += stamps or 0
        liability[currency] += liability_cents(program, points or 0, stamps or 0)
    board.merchants_with_program = len(merchants)
    board.liability = dict(sorted(liability.items()))

    first = today - timedelta(days=WINDOW_DAYS - 1)
    ledger = _ledger_since(first - timedelta(days=WINDOW_DAYS), now)
    recent, per_day = defaultdict(lambda: [0, 0, 0]), defaultdict(lambda: [0, 0])
    for day, kind, rows, stamps, points in db.session.execute(
            select(ledger.c.day, ledger.c.transaction_type, func.sum(ledger.c.rows),
                   func.sum(ledger.c.stamps), func.sum(ledger.c.points))
            .where(ledger.c.day >= first).group_by(ledger.c.day, ledger.c.transaction_type)):
        kind, total = T(kind), recent[T(kind)]
        total[0], total[1], total[2] = total[0] + rows, total[1] + (stamps or 0), \
            total[2] + (points or 0)
        per_day[_as_date(day)][0] += rows
        if kind in FIGURES["points_issued"][0]:
            per_day[_as_date(day)][1] += points or 0
    # Visits per merchant: the 30 days before, the last 30 days.
    activity = {merchant_id: (before or 0, latest or 0) for merchant_id, before, latest in
                db.session.execute(
                    select(ledger.c.merchant_id,
                           func.sum(ledger.c.rows).filter(ledger.c.day < first),
                           func.sum(ledger.c.rows).filter(ledger.c.day >= first))
                    .where(ledger.c.transaction_type.in_([kind.value for kind in ACTIVITY]))
                    .group_by(ledger.c.merchant_id))}
    board.recent = _figures(recent)
    board.all_time = _figures(_all_time(now))
    board.days = [(first + timedelta(days=n), *per_day[first + timedelta(days=n)])
                  for n in range(WINDOW_DAYS)]
    board.growing, board.falling = _movers(activity)
    return board


def _movers(activity):
    """The merchants whose visits grew most and fell most, last 30 days against the 30
    before (one statement for their names)."""
    moved = {merchant_id: counts for merchant_id, counts in activity.items()
             if counts[0] != counts[1]}
    names = dict(replica_session().execute(select(Merchant.id, Merchant.name)  # live ones only
                                    .where(Merchant.id.in_(moved))).all()) if moved else {}
    changes = sorted((now - before, names[merchant_id], before, now)
                     for merchant_id, (before, now) in moved.items() if merchant_id in names)
    growing = [(name, b, n) for d, name, b, n in reversed(changes) if d > 0]
    falling = [(name, b, n) for d, name, b, n in changes if d < 0]
    return growing[:MOVERS], falling[:MOVERS]


@dataclass(frozen=True)
class ProgramFilters:
    query: str = ""
    program_type: str = ""  # "", or a ProgramType value
    active: str = ""  # "", "yes", "no"
    sort: str = "merchant"
    page: int = 1


def program_list(filters, now=None):
    """One page of every live program with its merchant, members, active members (a visit in
    the last 30 days), points issued (net of voids) and redeemed (the cards' lifetime
    counters) and liability, sorted in the database. One statement."""
    now = now or clock.now()
    C, P = LoyaltyCard, LoyaltyProgram
    active_since = now - timedelta(days=WINDOW_DAYS)
    per_program = (select(
        C.program_id, func.count().label("members"),
        func.count().filter(C.last_activity_at >= active_since).label("active"),
        func.coalesce(func.sum(C.points_earned_total - C.points_voided_total), 0).label("issued"),
        func.coalesce(func.sum(C.points_redeemed_total), 0).label("redeemed"),
        func.coalesce(func.sum(C.points_balance), 0).label("points"),
        func.coalesce(func.sum(C.stamp_count), 0).label("stamps"))
        .group_by(C.program_id).subquery())
    members = func.coalesce(per_program.c.members, 0)
    points = func.coalesce(per_program.c.points, 0)
    stamps = func.coalesce(per_program.c.stamps, 0)
    has_points = P.program_type.in_([ProgramType.POINTS, ProgramType.HYBRID])
    has_stamps = P.program_type.in_([ProgramType.STAMPS, ProgramType.HYBRID])
    # In cents, as stats.liability_cents: exact decimals, rounded to the cent.
    liability = func.round(
        case((has_points, cast(points, Numeric(20, 4)) * P.point_value_cents), else_=0)
        + case((has_stamps, cast(stamps * P.stamp_reward_value_cents, Numeric(20, 4))
                / P.stamps_target), else_=0))
    columns = {
        "merchant": Merchant.name, "members": members,
        "active": func.coalesce(per_program.c.active, 0),
        "issued": func.coalesce(per_program.c.issued, 0),
        "redeemed": func.coalesce(per_program.c.redeemed, 0), "liability": liability,
    }
    query = (select(P, Merchant.name, Merchant.currency, *(columns[name].label(name) for name in
                                                         PROGRAM_SORTS[1:]))
             .join(Merchant, Merchant.id == P.merchant_id)
             .outerjoin(per_program, per_program.c.program_id == P.id))
    text = filters.query.replace("\x00", "").strip()[:100]
    if text:
        query = query.where(Merchant.name.icontains(text, autoescape=True))
    if filters.program_type in {kind.value for kind in ProgramType}:
        query = query.where(P.program_type == ProgramType(filters.program_type))
    if filters.active in ("yes", "no"):
        query = query.where(P.is_active.is_(filters.active == "yes"))
    sort = filters.sort if filters.sort in PROGRAM_SORTS else "merchant"
    order = columns[sort].asc() if sort == "merchant" else columns[sort].desc()
    page = filters.page if 0 < filters.page <= 10_000 else 1
    reads = without_jit(replica_session())
    rows = reads.execute(query.order_by(order, P.id).limit(PROGRAM_PAGE + 1)
                         .offset((page - 1) * PROGRAM_PAGE)).all()
    return rows[:PROGRAM_PAGE], page, len(rows) > PROGRAM_PAGE
