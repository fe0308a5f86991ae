"""Whether members come back: repeat rate, visits per active member, days between visits, join
cohorts, rewards per 100 visits and the regulars who stopped coming.

A **visit** is a card and a local day (the merchant's clock) with at least one ``stamp_earned``
or ``points_earned`` row; a row voided later still made its day a visit (the customer came).
Everything is read over a window of 13 local months: the current month and the 12 before it
(``MONTHS``). A manager sees the visits made at their stores and the members enrolled there.

- repeat rate: of the members who joined (card created) in the window at least 30 (90) days
  ago, the share with two visit days or more in the 30 (90) days from their join day;
- visits per active member: a month's visits over the members with a visit that month;
- median days between a card's consecutive visits in the window;
- cohorts: for each join month, the share of its members with a visit in each month after;
- rewards per 100 visits: stamp and catalogue rewards given, less those undone;
- regulars who stopped coming: at least N visits in the window, none in the last M days.

Two statements whatever the number of stores, members or months: one reads the window's visit
and reward rows once (sorted by card and day, each row knowing the day of the visit before it)
and returns every figure as tagged rows of a ``UNION ALL``; one names the regulars listed.
"""
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal_column, or_, select, union_all

from loyalty import clock
from loyalty.database import replica_session, without_jit
from loyalty.models import Customer, LoyaltyCard, LoyaltyTransaction, TransactionType
from loyalty.services.merchant.local_days import day_number, day_of, local_day, local_midnight

T = TransactionType
MONTHS = 12  # months before the current one
VISIT_KINDS = (T.STAMP_EARNED, T.POINTS_EARNED)
REWARD_KINDS, REWARD_UNDO_KINDS = (T.STAMP_REDEEMED, T.POINTS_REDEEMED), \
    (T.STAMP_REWARD_VOIDED, T.POINTS_REWARD_VOIDED)
REPEAT_DAYS = (30, 90)
LIST_LIMIT = 100
MONTHLY, GAPS, JOINED, REPEAT, STOPPED, REWARDS = range(6)


@dataclass
class Month:
    start: object  # the local date the month begins
    visits: int = 0
    active: int = 0

    @property
    def per_active(self):
        return _ratio(self.visits, self.active)


@dataclass
class Cohort:
    start: object
    joined: int = 0
    active: dict = field(default_factory=dict)  # months after joining -> members active then
    months: int = 0  # how many months after joining have begun

    def share(self, after):
        """Percent of the cohort active ``after`` months after joining (None: not yet)."""
        if after >= self.months:
            return None
        return _ratio(100 * self.active.get(after, 0), self.joined, "1") if self.joined else None


@dataclass
class Regular:
    card_id: int
    visits: int
    last_visit: object
    name: str = ""
    card_number: str = ""


@dataclass
class Retention:
    months: list
    cohorts: list
    repeat: dict  # days -> (members who came back, members who joined long enough ago)
    median_gap_days: Decimal | None
    visits: int
    rewards: int
    regulars: list
    regulars_total: int
    up_to: object = None  # a snapshot's: the figures are up to the end of this local day
    computed_at: object = None

    def repeat_rate(self, days):
        back, eligible = self.repeat[days]
        return _ratio(100 * back, eligible) if eligible else None

    @property
    def rewards_per_100_visits(self):
        return _ratio(100 * self.rewards, self.visits) if self.visits else None


def _ratio(numerator, denominator, places="0.1"):
    if not denominator:
        return Decimal(0)
    return (Decimal(numerator) / denominator).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def local_today(timezone, now):
    return now.astimezone(ZoneInfo(timezone)).date()


def month_starts(timezone, now):
    """The first local day of each month of the window, oldest first."""
    starts = [local_today(timezone, now).replace(day=1)]
    for _ in range(MONTHS):
        starts.insert(0, (starts[0] - timedelta(days=1)).replace(day=1))
    return starts


def _month_of(day, starts):
    """The index in ``starts`` (local day numbers, ascending) of the month ``day`` is in."""
    return case(*[(day >= start, index) for index, start in reversed(list(enumerate(starts)))],
                else_=-1)


def retention(merchant, *, store_ids=None, min_visits=5, away_days=60, now=None, named=True):
    """The figures for ``merchant`` (only ``store_ids``' visits and members when given), from
    the ledger rows and cards before ``now``; the regulars are named unless ``named`` is
    false. The page reads them through ``retention_snapshots.figures_for``."""
    now = now or clock.now()
    starts = month_starts(merchant.timezone, now)
    since = local_midnight(merchant.timezone, starts[0])
    numbers = [day_number(start) for start in starts]
    today = day_number(local_today(merchant.timezone, now))
    L, C = LoyaltyTransaction, LoyaltyCard

    def in_scope(query, column):
        return query if store_ids is None else query.where(column.in_(store_ids))

    # The window's visit and reward rows, read once in the order of the card and time. Each
    # row carries the day of the card's visit row before it: a visit row on that same day is no
    # new visit, and that day is what the gap and "first visit of the month" need.
    is_visit = L.transaction_type.in_(VISIT_KINDS)
    day = local_day(L.transaction_at, merchant.timezone, since, now)
    joined_day = local_day(C.created_at, merchant.timezone, since, now)
    member_in_scope = in_scope(select(C.id, joined_day.label("day")).where(
        C.merchant_id == merchant.id, C.created_at >= since, C.created_at < now),
        C.enrolled_at_store_id)
    joined = member_in_scope.cte("joined")
    j = joined.c
    ledger = in_scope(
        select(L.card_id, day.label("day"), case((is_visit, 1), else_=0).label("visit"),
               case((L.transaction_type.in_(REWARD_KINDS), 1),
                    (L.transaction_type.in_(REWARD_UNDO_KINDS), -1), else_=0).label("reward"),
               func.max(case((is_visit, day))).over(  # the card's last visit day before
                   partition_by=L.card_id, order_by=L.transaction_at, rows=(None, -1))
               .label("prev"),
               j.day.label("joined"))
        .select_from(L.__table__.outerjoin(joined, j.id == L.card_id))
        .where(L.merchant_id == merchant.id, L.transaction_at >= since, L.transaction_at < now,
               L.transaction_type.in_(VISIT_KINDS + REWARD_KINDS + REWARD_UNDO_KINDS)),
        L.store_id).cte("ledger_rows")
    r = ledger.c
    visits = select(r.card_id, r.day, r.prev, r.joined) \
        .where(r.visit == 1, or_(r.prev.is_(None), r.prev != r.day)).cte("visits")
    v = visits.c
    month, join_month = _month_of(v.day, numbers), _month_of(v.joined, numbers)
    zero = literal_column("0")

    def tagged(tag, *columns):
        padded = [*columns, *[zero] * (4 - len(columns))]
        return select(literal_column(str(tag)).label("tag"),
                      *[column.label(name) for column, name in zip(padded, "abcd")])

    first_in_month = case((or_(v.prev.is_(None), _month_of(v.prev, numbers) != month), 1),
                          else_=0)
    by_month = tagged(MONTHLY, month, join_month, func.count(), func.sum(first_in_month)) \
        .group_by(month, join_month)
    gap = v.day - v.prev
    gaps = tagged(GAPS, gap, func.count()).where(v.prev.isnot(None)).group_by(gap)
    days_after = {days: func.sum(case((v.day <= v.joined + days, 1), else_=0)).label(f"n{days}")
                  for days in REPEAT_DAYS}
    per_card = select(v.card_id, v.joined, func.count().label("visits"),
                      func.max(v.day).label("last"), *days_after.values()) \
        .group_by(v.card_id, v.joined).cte("per_card")
    p = per_card.c
    repeat = tagged(REPEAT, *[
        func.sum(case((and_(p.joined + days <= today, p[f"n{days}"] >= 2), 1), else_=0))
        for days in REPEAT_DAYS])
    joined_month = _month_of(j.day, numbers)
    joined_counts = tagged(JOINED, joined_month, func.count(), *[
        func.sum(case((j.day + days <= today, 1), else_=0)) for days in REPEAT_DAYS]) \
        .group_by(joined_month)
    regulars = select(p.card_id, p.visits, p.last) \
        .where(p.visits >= min_visits, p.last < today - away_days)
    if store_ids is not None:  # the members a manager may open
        regulars = regulars.where(p.card_id.in_(
            select(C.id).where(C.merchant_id == merchant.id,
                               C.enrolled_at_store_id.in_(store_ids))))
    regulars = regulars.subquery()
    top = tagged(STOPPED, regulars.c.card_id, regulars.c.visits, regulars.c.last,
                 func.count().over()) \
        .order_by(regulars.c.visits.desc(), regulars.c.last.desc(), regulars.c.card_id) \
        .limit(LIST_LIMIT).subquery()
    rewards = tagged(REWARDS, func.coalesce(func.sum(r.reward), 0)).where(r.visit == 0)

    # On the replica once it holds every row before ``now`` (a snapshot is kept for good).
    rows = without_jit(replica_session(complete_through=now)).execute(union_all(
        by_month, gaps, repeat, joined_counts, select(top), rewards)).all()
    return _assemble(rows, starts, named)


def _assemble(rows, starts, named=True):
    months = [Month(start) for start in starts]
    cohorts = [Cohort(start, months=len(starts) - index) for index, start in enumerate(starts)]
    gaps, regulars, back, eligible = {}, [], (0, 0), {days: 0 for days in REPEAT_DAYS}
    rewards = total = 0
    for tag, a, b, c, d in rows:
        if tag == MONTHLY and a >= 0:  # (month, join month, visits, members active)
            months[a].visits += c
            months[a].active += d
            if 0 <= b <= a:
                cohorts[b].active[a - b] = d
        elif tag == GAPS:
            gaps[a] = b
        elif tag == JOINED and a >= 0:  # (join month, joined, of them 30 and 90 days ago)
            cohorts[a].joined = b
            eligible = {30: eligible[30] + c, 90: eligible[90] + d}
        elif tag == REPEAT:
            back = (a or 0, b or 0)
        elif tag == STOPPED:
            regulars.append(Regular(a, b, day_of(c)))
            total = d
        elif tag == REWARDS:
            rewards = a or 0
    if named:
        total -= name(regulars)
    return Retention(months=months, cohorts=cohorts,
                     repeat={days: (came, eligible[days]) for days, came in zip(REPEAT_DAYS, back)},
                     median_gap_days=_median(gaps), visits=sum(m.visits for m in months),
                     rewards=rewards, regulars=regulars, regulars_total=total)


def _median(counts):
    """The median of values given as ``{value: how many}``."""
    size = sum(counts.values())
    if not size:
        return None
    positions, picked, seen = sorted({(size - 1) // 2, size // 2}), [], 0
    for value in sorted(counts):
        picked += [value for position in positions if seen <= position < seen + counts[value]]
        seen += counts[value]
    return _ratio(sum(picked), len(picked))


def name(regulars):
    """Give ``regulars`` (a list, changed in place) their customer's name and card number as
    they are now; those whose card is gone (deleted) are dropped. Returns how many were."""
    if not regulars:
        return 0
    found = {card_id: (name, number) for card_id, name, number in replica_session().execute(
        select(LoyaltyCard.id, Customer.name, LoyaltyCard.card_number)
        .join(Customer, Customer.id == LoyaltyCard.customer_id)
        .where(LoyaltyCard.id.in_([regular.card_id for regular in regulars])))}
    kept = [regular for regular in regulars if regular.card_id in found]
    for regular in kept:
        regular.name, regular.card_number = found[regular.card_id]
    dropped = len(regulars) - len(kept)
    regulars[:] = kept
    return dropped
