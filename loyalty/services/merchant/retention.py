"""Whether members come back: repeat rate, visits per active member, days between visits, join
cohorts, rewards per 100 visits and the regulars who stopped coming.

A **visit** is a card and a local day (the merchant's clock) with at least one ``stamp_earned``
or ``points_earned`` row; a row voided later still made its day a visit (the customer came).
Everything is read over a window of 13 local months: the current month and the 12 before it
(``MONTHS``). A manager sees the visits made at their stores and the members enrolled there.

Two statements whatever the number of stores, members or months: one that reads the window's
visits once (a ``visits`` common table, grouped by card and day) and returns every figure
as tagged rows of a ``UNION ALL``, and one that names the regulars of the list.
"""
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal_column, or_, select, union_all

from loyalty import clock
from loyalty.extensions import db
from loyalty.models import Customer, LoyaltyCard, LoyaltyTransaction, TransactionType
from loyalty.services.merchant.local_days import day_number, day_of, local_day, local_midnight

T = TransactionType
MONTHS = 12  # months before the current one
VISIT_KINDS = (T.STAMP_EARNED, T.POINTS_EARNED)
REWARD_KINDS, REWARD_UNDO_KINDS = (T.STAMP_REDEEMED, T.POINTS_REDEEMED), \
    (T.STAMP_REWARD_VOIDED, T.POINTS_REWARD_VOIDED)
REPEAT_DAYS = (30, 90)
LIST_LIMIT = 100
SERIES, GAPS, COHORTS, JOINED, REPEAT, STOPPED, REWARDS = range(7)


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


def retention(merchant, *, store_ids=None, min_visits=5, away_days=60, now=None):
    """The figures for ``merchant`` (only ``store_ids``' visits and members when given)."""
    now = now or clock.now()
    starts = month_starts(merchant.timezone, now)
    since = local_midnight(merchant.timezone, starts[0])
    numbers = [day_number(start) for start in starts]
    today = day_number(local_today(merchant.timezone, now))
    L, C = LoyaltyTransaction, LoyaltyCard

    def in_scope(query, column):
        return query if store_ids is None else query.where(column.in_(store_ids))

    day = local_day(L.transaction_at, merchant.timezone, since, now).label("day")
    visits = in_scope(
        select(L.card_id, day)
        .where(L.merchant_id == merchant.id, L.transaction_type.in_(VISIT_KINDS),
               L.transaction_at >= since)
        .group_by(L.card_id, day), L.store_id).cte("visits")
    joined = in_scope(
        select(C.id.label("card_id"),
               local_day(C.created_at, merchant.timezone, since, now).label("day"))
        .where(C.merchant_id == merchant.id, C.created_at >= since),
        C.enrolled_at_store_id).cte("joined")
    v, j = visits.c, joined.c
    month, join_month = _month_of(v.day, numbers), _month_of(j.day, numbers)
    zero = literal_column("0")

    def tagged(tag, *columns):
        padded = [*columns, *[zero] * (4 - len(columns))]
        return select(literal_column(str(tag)).label("tag"),
                      *[column.label(name) for column, name in zip(padded, "abcd")])

    series = tagged(SERIES, month, func.count(), func.count(v.card_id.distinct())) \
        .group_by(month)
    gap = (v.day - func.lag(v.day).over(partition_by=v.card_id, order_by=v.day)).label("gap")
    gaps = select(gap).subquery()
    gap_counts = tagged(GAPS, gaps.c.gap, func.count()).where(gaps.c.gap.isnot(None)) \
        .group_by(gaps.c.gap)
    cohorts = tagged(COHORTS, join_month, month, func.count(v.card_id.distinct())) \
        .select_from(joined.join(visits, v.card_id == j.card_id)).group_by(join_month, month)
    joined_counts = tagged(JOINED, join_month, func.count()).group_by(join_month)

    per_member = select(j.card_id, j.day, *[
        func.sum(case((and_(v.day >= j.day, v.day <= j.day + days), 1), else_=0)).label(f"n{days}")
        for days in REPEAT_DAYS]).select_from(joined.outerjoin(visits, v.card_id == j.card_id)) \
        .group_by(j.card_id, j.day).subquery()
    repeat = tagged(REPEAT, *[
        func.sum(case((and_(per_member.c.day + days <= today,
                            *([per_member.c[f"n{days}"] >= 2] if back else [])), 1), else_=0))
        for days in REPEAT_DAYS for back in (True, False)])

    last = func.max(v.day)
    regulars = select(v.card_id, func.count().label("visits"), last.label("last")) \
        .group_by(v.card_id).having(func.count() >= min_visits, last < today - away_days)
    if store_ids is not None:  # the members a manager may open
        regulars = regulars.where(v.card_id.in_(
            select(C.id).where(C.merchant_id == merchant.id,
                               C.enrolled_at_store_id.in_(store_ids))))
    regulars = regulars.subquery()
    top = tagged(STOPPED, regulars.c.card_id, regulars.c.visits, regulars.c.last,
                 func.count().over()) \
        .order_by(regulars.c.visits.desc(), regulars.c.last.desc(), regulars.c.card_id) \
        .limit(LIST_LIMIT).subquery()
    rewards = in_scope(tagged(
        REWARDS, func.coalesce(func.sum(case((L.transaction_type.in_(REWARD_KINDS), 1),
                                              else_=-1)), 0))
        .where(L.merchant_id == merchant.id, L.transaction_at >= since,
               or_(L.transaction_type.in_(REWARD_KINDS),
                   L.transaction_type.in_(REWARD_UNDO_KINDS))), L.store_id)

    rows = db.session.execute(union_all(
        series, gap_counts, cohorts, joined_counts, repeat, select(top), rewards)).all()
    return _assemble(rows, starts, today)


def _assemble(rows, starts, today):
    months = [Month(start) for start in starts]
    cohorts = [Cohort(start, months=len(starts) - index) for index, start in enumerate(starts)]
    gaps, regulars, repeat, rewards, total = {}, [], {d: (0, 0) for d in REPEAT_DAYS}, 0, 0
    for tag, a, b, c, d in rows:
        if tag == SERIES and a >= 0:
            months[a].visits, months[a].active = b, c
        elif tag == GAPS:
            gaps[a] = b
        elif tag == COHORTS and a >= 0 and b >= a:
            cohorts[a].active[b - a] = c
        elif tag == JOINED and a >= 0:
            cohorts[a].joined = b
        elif tag == REPEAT:
            repeat = {30: (a or 0, b or 0), 90: (c or 0, d or 0)}
        elif tag == STOPPED:
            regulars.append(Regular(a, b, day_of(c)))
            total = d
        elif tag == REWARDS:
            rewards = a or 0
    _name(regulars)
    return Retention(months=months, cohorts=cohorts, repeat=repeat,
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


def _name(regulars):
    if not regulars:
        return
    found = {card_id: (name, number) for card_id, name, number in db.session.execute(
        select(LoyaltyCard.id, Customer.name, LoyaltyCard.card_number)
        .join(Customer, Customer.id == LoyaltyCard.customer_id)
        .where(LoyaltyCard.id.in_([regular.card_id for regular in regulars])))}
    for regular in regulars:
        regular.name, regular.card_number = found.get(regular.card_id, ("", ""))
