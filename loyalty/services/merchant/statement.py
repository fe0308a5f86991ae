"""The liability and breakage statement: what the points and stamps handed out are worth on
the books, for a merchant and a period [first day, end day) on the merchant's clock.

Read from the ledger with two grouped statements per time zone (no loop over cards):

- every row before the period's end, grouped by merchant, "before the period or in it", kind
  and "an erasure's forfeit or not", summing each unit's positive and negative deltas;
- the trailing twelve months before the end, grouped by merchant and kind, for the breakage
  rate observed (expired over issued).

Both read through ``replica_session`` (the read replica when there is one).

Every ledger kind falls in exactly one movement column (``COLUMN_OF``; a test fails when a new
kind is not mapped), so the opening balance plus the movements is the closing balance by
construction: both are sums of the same rows.

Money, and its rounding rule (``ROUNDING_RULE``): a point is worth the program's point value,
a stamp its reward's value over the stamps target, both exact fractions of a cent. Balances
are rounded half up to the cent from their exact value; each movement is the difference of the
rounded running totals before and after it (opening, issued, redeemed, voided, expired,
adjusted up, adjusted down, erasure forfeits). So opening + movements = closing to the cent,
each movement is within a cent of its own exact value, and a month's closing is the next
month's opening. Values are the program's as they are now.
"""
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from math import floor

from sqlalchemy import and_, case, func, literal, select

from loyalty import clock
from loyalty.database import replica_session
from loyalty.extensions import db
from loyalty.models import (
    Customer,
    LoyaltyCard,
    LoyaltyProgram,
    LoyaltyTransaction,
    Merchant,
    TransactionType,
)
from loyalty.models.base import UTCDateTime
from loyalty.services.merchant.statement_periods import Period, add_months

T = TransactionType
ISSUED, REDEEMED, VOIDED, EXPIRED = "issued", "redeemed", "voided", "expired"
ADJUSTED_UP, ADJUSTED_DOWN, ERASED = "adjusted_up", "adjusted_down", "erased"
#: The movement columns, in the order the statement shows (and rounds) them.
MOVEMENTS = (ISSUED, REDEEMED, VOIDED, EXPIRED, ADJUSTED_UP, ADJUSTED_DOWN, ERASED)
ADJUSTED = "adjusted"  # split by the sign of each row's delta into up and down
#: Every ledger kind's column. The card's life events carry no delta; they are mapped to the
#: adjustments so that a delta one ever carried would still be counted, and seen.
COLUMN_OF = {
    T.STAMP_EARNED: ISSUED, T.POINTS_EARNED: ISSUED, T.WELCOME_BONUS: ISSUED,
    T.BIRTHDAY_BONUS: ISSUED, T.WINBACK_BONUS: ISSUED,
    T.STAMP_REDEEMED: REDEEMED, T.POINTS_REDEEMED: REDEEMED,
    # A void takes back what was given; undoing a reward gives back what it used.
    T.STAMP_VOIDED: VOIDED, T.POINTS_VOIDED: VOIDED,
    T.STAMP_REWARD_VOIDED: VOIDED, T.POINTS_REWARD_VOIDED: VOIDED,
    # Points expired, and a win-back gift taken back unused when it lapsed: both breakage.
    T.POINTS_EXPIRED: EXPIRED, T.WINBACK_LAPSED: EXPIRED,
    T.STAMP_ADJUSTED: ADJUSTED, T.POINTS_ADJUSTED: ADJUSTED,
    T.CARD_CREATED: ADJUSTED, T.CARD_DEACTIVATED: ADJUSTED, T.CARD_REACTIVATED: ADJUSTED,
}
#: A customer's erasure (``customers/my_data.erase``) zeroes the card with adjustments written
#: by nobody (no user, PIN or key) on a card whose customer is erased: forfeits, not adjustments.
ERASURE_KINDS = (T.STAMP_ADJUSTED, T.POINTS_ADJUSTED)
POINTS, STAMPS = "points", "stamps"
TRAILING_MONTHS = 12


def cents(value):
    """An exact amount of cents rounded half up (away from zero) to a whole cent."""
    rounded = floor(abs(value) + Fraction(1, 2))
    return rounded if value >= 0 else -rounded


@dataclass
class UnitLine:
    """One unit's statement: balances and movements in units and in cents."""
    unit: str
    cents_per_unit: Fraction
    units: dict = field(default_factory=dict)  # "opening", the movements, "closing"
    cents: dict = field(default_factory=dict)
    issued_trailing: int = 0
    expired_trailing: int = 0
    net_liability_cents: int = 0

    @property
    def breakage_rate(self):
        if self.issued_trailing <= 0:
            return Fraction(0)
        return min(Fraction(self.expired_trailing, self.issued_trailing), Fraction(1))


@dataclass
class Statement:
    merchant: Merchant
    period: Period
    generated_at: datetime
    lines: list

    @property
    def currency(self):
        return self.merchant.currency

    @property
    def total_cents(self):
        keys = ("opening", *MOVEMENTS, "closing")
        return {key: sum(line.cents[key] for line in self.lines) for key in keys}

    @property
    def net_liability_cents(self):
        return sum(line.net_liability_cents for line in self.lines)


def unit_values(program, moved=()):
    """(unit, exact cents per unit) the program counts, and any unit it no longer counts that
    the ledger still has (``moved``: units with a movement or a balance), valued at what the
    program row keeps for it: so the closing balance always equals the ledger's."""
    if program is None:
        return []
    values = []
    if program.has_points or POINTS in moved:
        values.append((POINTS, Fraction(program.point_value_cents)))
    if program.has_stamps or STAMPS in moved:
        values.append((STAMPS, Fraction(program.stamp_reward_value_cents, program.stamps_target)))
    return values


def _moved_units(sums):
    """Units with any non-zero movement before or in the period."""
    return {unit for bucket in sums.values() for unit, columns in bucket.items()
            if any(columns.values())}


def _line(unit, per_unit, opening, movements, issued_trailing, expired_trailing):
    line = UnitLine(unit, per_unit, issued_trailing=issued_trailing,
                    expired_trailing=expired_trailing)
    running = opening
    line.units["opening"] = opening
    line.cents["opening"] = before = cents(opening * per_unit)
    for column in MOVEMENTS:
        running += movements.get(column, 0)
        line.units[column] = movements.get(column, 0)
        after = cents(running * per_unit)
        line.cents[column], before = after - before, after
    line.units["closing"], line.cents["closing"] = running, before
    line.net_liability_cents = cents(running * per_unit * (1 - line.breakage_rate))
    return line


def _signed(column, positive, negative):
    if column == ADJUSTED:
        return {ADJUSTED_UP: positive, ADJUSTED_DOWN: negative}
    return {column: positive + negative}


def _movements(merchant_ids, start, end):
    """{merchant id: {"opening"/"period": {unit: {column: units}}}} for rows before ``end``."""
    L = LoyaltyTransaction
    erased_cards = (select(LoyaltyCard.id).join(Customer, Customer.id == LoyaltyCard.customer_id)
                    .where(LoyaltyCard.merchant_id.in_(merchant_ids),
                           Customer.erased_at.is_not(None)))
    is_erasure = case((and_(L.transaction_type.in_(ERASURE_KINDS), L.user_id.is_(None),
                            L.staff_pin_id.is_(None), L.api_key_id.is_(None),
                            L.card_id.in_(erased_cards)), 1), else_=0)
    bucket = case((L.transaction_at < literal(start, UTCDateTime()), 0), else_=1)
    sums = [func.coalesce(func.sum(case((condition, delta), else_=0)), 0)
            for delta in (L.points_delta, L.stamps_delta)
            for condition in (delta > 0, delta < 0)]
    rows = replica_session().execute(
        select(L.merchant_id, bucket, L.transaction_type, is_erasure, *sums)
        .where(L.merchant_id.in_(merchant_ids), L.transaction_at < literal(end, UTCDateTime()))
        .group_by(L.merchant_id, bucket, L.transaction_type, is_erasure)
        .execution_options(include_deleted=True)).all()
    result = {}
    for merchant_id, in_period, kind, erasure, p_up, p_down, s_up, s_down in rows:
        column = ERASED if erasure else COLUMN_OF[TransactionType(kind)]
        moved = result.setdefault(merchant_id, {0: {}, 1: {}})[in_period]
        for unit, positive, negative in ((POINTS, p_up, p_down), (STAMPS, s_up, s_down)):
            into = moved.setdefault(unit, {})
            for name, amount in _signed(column, int(positive), int(negative)).items():
                into[name] = into.get(name, 0) + amount
    return result


def _trailing(merchant_ids, start, end):
    """{merchant id: {unit: (issued, expired)}} over [start, end)."""
    L = LoyaltyTransaction
    issued = [k for k, column in COLUMN_OF.items() if column == ISSUED]
    expired = [k for k, column in COLUMN_OF.items() if column == EXPIRED]

    def total(kinds, delta):
        return func.coalesce(func.sum(case((L.transaction_type.in_(kinds), delta), else_=0)), 0)

    rows = replica_session().execute(
        select(L.merchant_id, total(issued, L.points_delta), total(expired, L.points_delta),
               total(issued, L.stamps_delta), total(expired, L.stamps_delta))
        .where(L.merchant_id.in_(merchant_ids),
               L.transaction_at >= literal(start, UTCDateTime()),
               L.transaction_at < literal(end, UTCDateTime()))
        .group_by(L.merchant_id)
        .execution_options(include_deleted=True)).all()
    return {merchant_id: {POINTS: (int(p_in), -int(p_out)), STAMPS: (int(s_in), -int(s_out))}
            for merchant_id, p_in, p_out, s_in, s_out in rows}


def statements(merchants, period, now=None):
    """The statement of each of ``merchants`` for ``period`` on each one's own clock, in as
    many pairs of statements as there are time zones among them."""
    now = now or clock.now()
    programs = {program.merchant_id: program for program in db.session.scalars(
        select(LoyaltyProgram).where(LoyaltyProgram.merchant_id.in_([m.id for m in merchants])))}
    by_zone = {}
    for merchant in merchants:
        by_zone.setdefault(merchant.timezone, []).append(merchant)
    result = {}
    for timezone, group in by_zone.items():
        ids = [merchant.id for merchant in group]
        start, end = period.bounds(timezone)
        trailing_start = Period(add_months(period.end_day, -TRAILING_MONTHS),
                                period.end_day).bounds(timezone)[0]
        moved, trailing = _movements(ids, start, end), _trailing(ids, trailing_start, end)
        for merchant in group:
            sums = moved.get(merchant.id, {0: {}, 1: {}})
            lines = []
            for unit, per_unit in unit_values(programs.get(merchant.id), _moved_units(sums)):
                opening = sum(sums[0].get(unit, {}).values())
                lines.append(_line(unit, per_unit, opening, sums[1].get(unit, {}),
                                   *trailing.get(merchant.id, {}).get(unit, (0, 0))))
            result[merchant.id] = Statement(merchant, period, now, lines)
    return result


def statement(merchant, period, now=None):
    return statements([merchant], period, now)[merchant.id]


def platform_totals(period, now=None):
    """Every merchant's statement for ``period``, summed per currency: {currency: {"opening",
    movements, "closing", "net_liability", "merchants": count}}, currencies in order."""
    merchants = list(db.session.scalars(select(Merchant).order_by(Merchant.id)))
    totals = {}
    for result in statements(merchants, period, now).values():
        if not result.lines:
            continue
        into = totals.setdefault(result.currency, {"merchants": 0, "net_liability": 0})
        into["merchants"] += 1
        into["net_liability"] += result.net_liability_cents
        for key, value in result.total_cents.items():
            into[key] = into.get(key, 0) + value
    return dict(sorted(totals.items()))
