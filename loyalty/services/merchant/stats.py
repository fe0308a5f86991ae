"""Every statistic of a merchant's program, from a fixed handful of grouped queries.

``merchant_stats`` runs six statements whatever the number of stores or days: the last 30
days of the ledger grouped by store and kind (with how many of its rows a tablet without
connection sent later), then by day and kind; the cards grouped by
enrolment store; new cards by day; and for all time the cards' lifetime counters plus the
redemption and void rows (a manager's all-time figures come from their stores' ledger rows). Days are the merchant's local days: their boundaries are computed here (so daylight
saving time is right) and the database sorts each row into its day with one ``CASE``.
The owner's pages, the admin back office and the exports share it.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.orm import aliased

from loyalty import clock
from loyalty.database import replica_session, without_jit
from loyalty.models import LoyaltyCard, LoyaltyTransaction, TransactionType, UTCDateTime

T = TransactionType
WINDOW_DAYS = 30
#: (figure, ledger kinds, which delta, sign): a figure is the signed sum of its kinds' delta.
#: Stamps and points given are net of voids (a void's negative delta takes back what it
#: voided; what was voided has a figure of its own); redemptions are net of undone rewards
#: (whose positive delta takes their cost back off).
GIVEN = {"stamps": (T.STAMP_EARNED, T.BIRTHDAY_BONUS, T.STAMP_VOIDED),
         "points": (T.POINTS_EARNED, T.WELCOME_BONUS, T.BIRTHDAY_BONUS, T.POINTS_VOIDED)}
LEDGER_FIGURES = {
    "stamps_issued": (GIVEN["stamps"], "stamps", 1),
    "stamps_redeemed": ((T.STAMP_REDEEMED, T.STAMP_REWARD_VOIDED), "stamps", -1),
    "stamps_voided": ((T.STAMP_VOIDED,), "stamps", -1),
    "points_issued": (GIVEN["points"], "points", 1),
    "points_redeemed": ((T.POINTS_REDEEMED, T.POINTS_REWARD_VOIDED), "points", -1),
    "points_expired": ((T.POINTS_EXPIRED,), "points", -1),
    "points_voided": ((T.POINTS_VOIDED,), "points", -1),
}
#: Figures that count rows, (counted kind, kind that takes one off): rewards given, stamp
#: rewards and catalogue rewards apart, less those undone.
LEDGER_COUNTS = {
    "stamp_rewards": (T.STAMP_REDEEMED, T.STAMP_REWARD_VOIDED),
    "catalogue_rewards": (T.POINTS_REDEEMED, T.POINTS_REWARD_VOIDED),
}
#: The kinds the all-time figures read from the ledger (the rest come from card counters).
RARE_KINDS = (T.STAMP_REDEEMED, T.STAMP_REWARD_VOIDED, T.STAMP_VOIDED, T.POINTS_REDEEMED,
              T.POINTS_REWARD_VOIDED)


def _ledger_figures(by_kind):
    """Figures from ``{kind: (rows, stamps, points)}``."""
    figures = {}
    for name, (kinds, delta, sign) in LEDGER_FIGURES.items():
        index = 1 if delta == "stamps" else 2
        figures[name] = sign * sum(by_kind.get(kind, (0, 0, 0))[index] for kind in kinds)
    for name, (kind, undo) in LEDGER_COUNTS.items():
        figures[name] = by_kind.get(kind, (0, 0, 0))[0] - by_kind.get(undo, (0, 0, 0))[0]
    return figures


@dataclass
class StoreRow:
    store_id: int | None
    recent: dict  # ledger figures of the last 30 days at this store
    members: int = 0
    new_members: int = 0


@dataclass
class Day:
    date: object  # the merchant's local date
    stamps: int = 0
    points: int = 0
    new_members: int = 0


@dataclass
class MerchantStats:
    members: int
    active_members: int
    new_members_this_month: int
    recent: dict  # ledger figures of the last 30 days
    all_time: dict
    outstanding_points: int
    open_stamps: int
    liability_cents: Decimal
    stores: list = field(default_factory=list)
    days: list = field(default_factory=list)
    #: Ledger rows of the last 30 days a tablet kept without connection and sent later.
    offline_actions: int = 0

    def per_member(self, figure):
        return (Decimal(self.all_time[figure]) / self.members).quantize(Decimal("0.1")) \
            if self.members else Decimal(0)


def day_starts(timezone, days, now=None):
    """The last ``days`` local dates, oldest first, the UTC instants at which they began,
    and the UTC start of today's local month."""
    zone = ZoneInfo(timezone)
    today = (now or clock.now()).astimezone(zone).date()
    dates = [today - timedelta(days=days - 1 - n) for n in range(days)]
    starts = [datetime.combine(date, time(), zone).astimezone(UTC) for date in dates]
    month_start = datetime.combine(today.replace(day=1), time(), zone).astimezone(UTC)
    return dates, starts, month_start


def _day_index(column, starts):
    """The index of the day ``column`` falls in (``starts`` ascending), in one CASE."""
    whens = [(column >= literal(start, UTCDateTime()), index)
             for index, start in reversed(list(enumerate(starts)))]
    return case(*whens, else_=-1)


def liability_cents(program, outstanding_points, open_stamps):
    """Outstanding value: unredeemed points x point value + open stamps x (reward value /
    stamps target), in cents of the merchant's currency, half a cent rounded up (as the
    database's ``round`` does for the programs list)."""
    if program is None:
        return Decimal(0)
    value = Decimal(0)
    if program.has_points:
        value += Decimal(outstanding_points) * Decimal(program.point_value_cents)
    if program.has_stamps and program.stamps_target:
        value += Decimal(open_stamps) * Decimal(program.stamp_reward_value_cents) / program.stamps_target
    return value.quantize(Decimal("1"), rounding=ROUND_HALF_UP)


def merchant_stats(merchant, program, *, store_ids=None, days=WINDOW_DAYS, now=None):
    """All figures for ``merchant`` (only ``store_ids``' ledger rows and enrolments when given,
    for a manager)."""
    now = now or clock.now()
    dates, starts, month_start = day_starts(merchant.timezone, days, now)
    since = day_starts(merchant.timezone, WINDOW_DAYS, now)[1][0]  # the chart's 30 local days
    L = LoyaltyTransaction

    reads = without_jit(replica_session())  # figures may lag the counter by the replica's delay

    def scoped(query, store_column):
        return query.where(store_column.in_(store_ids)) if store_ids is not None else query

    recent_rows = reads.execute(scoped(
        select(L.store_id, L.transaction_type, func.count(), func.sum(L.stamps_delta),
               func.sum(L.points_delta), func.sum(case((L.offline, 1), else_=0)))
        .where(L.merchant_id == merchant.id, L.transaction_at >= literal(since, UTCDateTime()))
        .group_by(L.store_id, L.transaction_type), L.store_id)).all()
    if store_ids is None:
        all_time = _all_time_from_cards(merchant.id)
    else:  # a manager's stores: what happened there, from the ledger
        totals = reads.execute(scoped(
            select(L.transaction_type, func.count(), func.sum(L.stamps_delta),
                   func.sum(L.points_delta))
            .where(L.merchant_id == merchant.id)
            .group_by(L.transaction_type), L.store_id)).all()
        all_time = _ledger_figures({T(kind): (rows, stamps or 0, points or 0)
                                    for kind, rows, stamps, points in totals})

    # What each day gave, net of what was voided of it since: a void counts on the day of
    # the row it voids (so no day goes below nothing). A void comes after what it voids, so
    # every row of the window was recorded since its first day: both parts read the rows
    # through the (merchant, time) index, and only the few rows that refer to another join
    # it (one join for all made the planner hash the merchant's whole ledger: 20 s at 2M rows).
    window = literal(starts[0], UTCDateTime())
    given_kinds = L.transaction_type.in_(GIVEN["stamps"] + GIVEN["points"])
    original = aliased(LoyaltyTransaction)
    own = scoped(
        select(L.transaction_at.label("given_at"), L.transaction_type.label("kind"),
               L.stamps_delta.label("stamps"), L.points_delta.label("points"))
        .where(L.merchant_id == merchant.id, L.transaction_at >= window, given_kinds,
               L.related_transaction_id.is_(None)), L.store_id)
    of_others = scoped(
        select(original.transaction_at, L.transaction_type, L.stamps_delta, L.points_delta)
        .join(original, original.id == L.related_transaction_id)
        .where(L.merchant_id == merchant.id, L.transaction_at >= window, given_kinds,
               L.related_transaction_id.isnot(None), original.transaction_at >= window),
        L.store_id)
    given = union_all(own, of_others).subquery("given")
    day = _day_index(given.c.given_at, starts).label("day")
    daily_rows = reads.execute(
        select(day, given.c.kind, func.sum(given.c.stamps), func.sum(given.c.points))
        .group_by(day, given.c.kind)).all()

    C = LoyaltyCard
    card_rows = reads.execute(scoped(
        select(C.enrolled_at_store_id, func.count(),
               func.sum(case((C.last_activity_at >= literal(since, UTCDateTime()), 1), else_=0)),
               func.sum(case((C.created_at >= literal(month_start, UTCDateTime()), 1), else_=0)),
               func.sum(C.points_balance), func.sum(C.stamp_count))
        .where(C.merchant_id == merchant.id)
        .group_by(C.enrolled_at_store_id), C.enrolled_at_store_id)).all()

    card_day = _day_index(C.created_at, starts).label("day")
    new_by_day = reads.execute(scoped(
        select(card_day, func.count())
        .where(C.merchant_id == merchant.id, C.created_at >= literal(starts[0], UTCDateTime()))
        .group_by(card_day), C.enrolled_at_store_id)).all()

    return _assemble(program, dates, recent_rows, all_time, daily_rows, card_rows, new_by_day)


def _all_time_from_cards(merchant_id):
    """All-time figures of the whole merchant without reading the whole ledger: the cards'
    lifetime counters (equal to the ledger's sums, as ``check-ledger`` verifies; deleted cards
    count, their history stays) and the few redemption and void rows; what was given is net
    of what was voided."""
    C, L, reads = LoyaltyCard, LoyaltyTransaction, replica_session()
    earned, issued, redeemed, voided, expired = reads.execute(
        select(func.sum(C.stamps_earned_total), func.sum(C.points_earned_total),
               func.sum(C.points_redeemed_total), func.sum(C.points_voided_total),
               func.sum(C.points_expired_total))
        .where(C.merchant_id == merchant_id)
        .execution_options(include_deleted=True)).one()
    rare = {T(kind): (rows, stamps or 0, 0) for kind, rows, stamps in reads.execute(
        select(L.transaction_type, func.count(), func.sum(L.stamps_delta))
        .where(L.merchant_id == merchant_id, L.transaction_type.in_(RARE_KINDS))
        .group_by(L.transaction_type))}
    from_ledger = _ledger_figures(rare)
    return {
        "stamps_issued": (earned or 0) - from_ledger["stamps_voided"],
        "points_issued": (issued or 0) - (voided or 0),
        "points_redeemed": redeemed or 0, "points_voided": voided or 0,
        "points_expired": expired or 0,
        **{name: from_ledger[name] for name in
           ("stamps_redeemed", "stamps_voided", "stamp_rewards", "catalogue_rewards")},
    }


def _assemble(program, dates, recent_rows, all_time, daily_rows, card_rows, new_by_day):
    by_store_recent = defaultdict(dict)
    total_recent = defaultdict(lambda: (0, 0, 0))
    offline_actions = 0
    for store_id, kind, rows, stamps, points, offline in recent_rows:
        offline_actions += offline or 0
        kind = T(kind)
        by_store_recent[store_id][kind] = (rows, stamps or 0, points or 0)
        total_recent[kind] = tuple(a + b for a, b in zip(total_recent[kind],
                                                          by_store_recent[store_id][kind]))

    stores = {}
    for store_id in set(by_store_recent) | {row[0] for row in card_rows}:
        stores[store_id] = StoreRow(store_id, _ledger_figures(by_store_recent.get(store_id, {})))
    members = active = new_this_month = outstanding = open_stamps = 0
    for store_id, count, active_count, new_count, points_sum, stamps_sum in card_rows:
        stores[store_id].members = count
        stores[store_id].new_members = new_count or 0
        members += count
        active += active_count or 0
        new_this_month += new_count or 0
        outstanding += points_sum or 0
        open_stamps += stamps_sum or 0

    days = [Day(date) for date in dates]
    for index, kind, stamps, points in daily_rows:
        if 0 <= index < len(days):
            days[index].stamps += stamps or 0
            days[index].points += points or 0
    for index, count in new_by_day:
        if 0 <= index < len(days):
            days[index].new_members += count

    return MerchantStats(
        members=members, active_members=active, new_members_this_month=new_this_month,
        recent=_ledger_figures(total_recent), all_time=all_time,
        outstanding_points=outstanding, open_stamps=open_stamps,
        liability_cents=liability_cents(program, outstanding, open_stamps),
        stores=sorted(stores.values(), key=lambda row: (row.store_id is None, row.store_id or 0)),
        days=days, offline_actions=offline_actions,
    )
