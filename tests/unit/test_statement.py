"""The liability and breakage statement: every ledger kind in one column, opening plus
movements equals closing (in units and to the cent), the merchant's clock, breakage."""
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from sqlalchemy import func, select

from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import LoyaltyCard, LoyaltyProgram, ProgramType, TransactionType
from loyalty.services.customers import my_data
from loyalty.services.engine import adjustments, points, stamps
from loyalty.services.engine.ledger import ActionContext, append, ledger_drift, lock_card
from loyalty.services.merchant import statement as st
from loyalty.services.merchant import statement_csv
from loyalty.services.merchant import statement_periods as periods
from tests import factories

T = TransactionType
#: A row of each kind as the engine writes it: (stamps, points).
ROW_OF = {
    T.CARD_CREATED: (0, 0), T.CARD_DEACTIVATED: (0, 0), T.CARD_REACTIVATED: (0, 0),
    T.STAMP_EARNED: (3, 0), T.STAMP_REDEEMED: (-3, 0), T.STAMP_VOIDED: (-1, 0),
    T.STAMP_ADJUSTED: (2, 0), T.WELCOME_BONUS: (0, 40), T.POINTS_EARNED: (0, 125),
    T.POINTS_REDEEMED: (0, -50), T.POINTS_VOIDED: (0, -10), T.POINTS_ADJUSTED: (0, -7),
    T.POINTS_EXPIRED: (0, -11), T.STAMP_REWARD_VOIDED: (3, 0), T.POINTS_REWARD_VOIDED: (0, 50),
    T.BIRTHDAY_BONUS: (1, 30), T.WINBACK_BONUS: (1, 20), T.WINBACK_LAPSED: (-1, -20),
}


def test_every_ledger_kind_has_exactly_one_column():
    assert set(st.COLUMN_OF) == set(TransactionType), \
        "map the new TransactionType to a statement column in services/merchant/statement.py"
    assert set(st.COLUMN_OF.values()) <= {*st.MOVEMENTS, st.ADJUSTED}
    assert set(ROW_OF) == set(TransactionType)  # the fixture below writes every kind


def _at(frozen_clock, *args, zone=UTC):
    frozen_clock.set(datetime(*args, tzinfo=zone).astimezone(UTC))


def _write(card, kind, frozen_clock=None, **context):
    stamps_delta, points_delta = ROW_OF[kind]
    with write_transaction():
        locked = lock_card(card.id, card.merchant_id)
        append(locked, kind, ActionContext(**context), stamps=stamps_delta, points=points_delta)


def _card_totals(merchant_id):
    return db.session.execute(
        select(func.sum(LoyaltyCard.points_balance), func.sum(LoyaltyCard.stamp_count))
        .where(LoyaltyCard.merchant_id == merchant_id)
        .execution_options(include_deleted=True)).one()


@pytest.fixture
def hybrid(merchant):
    # A stamp worth 350 / 3 cents and a point worth half a cent: neither is a whole cent.
    factories.hybrid_program(merchant.merchant, stamps_target=3, stamp_reward_value_cents=350,
                             point_value_cents=Decimal("0.5"))
    return merchant


def _every_kind(team, frozen_clock, year, month):
    """Cards with every kind of row in ``month`` (from its 2nd), through the engine where it
    writes the row itself; an erasure and owner adjustments both ways."""
    merchant, store = team.merchant, team.stores[0]
    counter = ActionContext(store_id=store.id, user_id=team.staff.id)
    _at(frozen_clock, year, month, 2, 10)
    first = factories.card(merchant, "Every Kind", store=store)
    for kind in ROW_OF:
        if kind in (T.STAMP_ADJUSTED, T.POINTS_ADJUSTED):
            continue
        if kind in (T.STAMP_REDEEMED, T.STAMP_VOIDED, T.POINTS_REDEEMED, T.POINTS_VOIDED,
                    T.POINTS_EXPIRED, T.WINBACK_LAPSED):
            _write(first, {T.STAMP_REDEEMED: T.STAMP_EARNED, T.STAMP_VOIDED: T.STAMP_EARNED,
                           T.WINBACK_LAPSED: T.WINBACK_BONUS}.get(kind, T.POINTS_EARNED))
        _write(first, kind, store_id=store.id)
        frozen_clock.advance(minutes=5)
    points.earn_points(first, 2000, context=counter)
    stamps.add_stamp(first, context=counter)
    adjustments.adjust_points(first, 9, reason="Goodwill", user=team.owner)
    adjustments.adjust_points(first, -4, reason="Typo", user=team.owner)
    adjustments.adjust_stamps(first, 1, reason="Goodwill", user=team.owner)
    gone = factories.card(merchant, "Erased Eric", store=store)
    points.earn_points(gone, 1230, context=counter)
    stamps.add_stamp(gone, context=counter)
    frozen_clock.advance(hours=1)
    my_data.erase(db.session.get(LoyaltyCard, gone.id))
    return first, gone


def test_opening_plus_movements_is_closing_and_the_cards_balances(hybrid, frozen_clock):
    _at(frozen_clock, 2026, 2, 20, 9)
    before = factories.card(hybrid.merchant, "Earlier", store=hybrid.stores[0])
    points.earn_points(before, 990, context=ActionContext(store_id=hybrid.stores[0].id))
    _every_kind(hybrid, frozen_clock, 2026, 3)
    assert ledger_drift() == []
    _at(frozen_clock, 2026, 4, 1, 12)
    result = st.statement(hybrid.merchant, periods.month_period("2026-03"))
    lines = {line.unit: line for line in result.lines}
    assert set(lines) == {st.POINTS, st.STAMPS}
    for line in result.lines:
        moved = sum(line.units[column] for column in st.MOVEMENTS)
        assert line.units["opening"] + moved == line.units["closing"]
        assert line.cents["opening"] + sum(line.cents[c] for c in st.MOVEMENTS) \
            == line.cents["closing"]
        for column in ("opening", *st.MOVEMENTS):  # each within a cent of its exact value
            exact = line.units[column] * line.cents_per_unit
            assert abs(line.cents[column] - exact) <= 1
    assert lines[st.POINTS].units["opening"] == 99
    # The closing balance is what the cards hold now (what check-ledger sums).
    held_points, held_stamps = _card_totals(hybrid.merchant.id)
    assert lines[st.POINTS].units["closing"] == held_points
    assert lines[st.STAMPS].units["closing"] == held_stamps
    # The erasure's rows are forfeits, the owner's adjustments are adjustments.
    assert lines[st.POINTS].units[st.ERASED] == -123
    assert lines[st.STAMPS].units[st.ERASED] == -1
    assert lines[st.POINTS].units[st.ADJUSTED_UP] == 9
    assert lines[st.POINTS].units[st.ADJUSTED_DOWN] == -4
    assert lines[st.STAMPS].units[st.ADJUSTED_UP] == 1
    # Issued: earned + welcome + birthday + win-back; expired: expiry + the lapsed gift.
    assert lines[st.POINTS].units[st.ISSUED] == 125 * 4 + 40 + 30 + 20 * 2 + 200 + 123
    assert lines[st.POINTS].units[st.EXPIRED] == -11 - 20
    assert lines[st.POINTS].units[st.VOIDED] == -10 + 50
    assert lines[st.STAMPS].units[st.VOIDED] == -1 + 3
    total = result.total_cents
    assert total["opening"] + sum(total[c] for c in st.MOVEMENTS) == total["closing"]


def test_next_months_opening_is_this_months_closing_to_the_cent(hybrid, frozen_clock):
    _every_kind(hybrid, frozen_clock, 2026, 3)
    _at(frozen_clock, 2026, 4, 3, 12)
    card = factories.card(hybrid.merchant, "April", store=hybrid.stores[0])
    stamps.add_stamp(card, context=ActionContext(store_id=hybrid.stores[0].id))
    march = st.statement(hybrid.merchant, periods.month_period("2026-03"))
    april = st.statement(hybrid.merchant, periods.month_period("2026-04"))
    for m, a in zip(march.lines, april.lines, strict=True):
        assert (m.units["closing"], m.cents["closing"]) == (a.units["opening"], a.cents["opening"])


@pytest.mark.parametrize("zone, last_evening", [
    # 23:30 on 31 March in Luxembourg is 21:30 UTC (summer time began on 29 March 2026).
    ("Europe/Luxembourg", datetime(2026, 3, 31, 21, 30, tzinfo=UTC)),
    # 23:30 on 31 March in New York is 03:30 UTC on 1 April (summer time since 8 March).
    ("America/New_York", datetime(2026, 4, 1, 3, 30, tzinfo=UTC)),
])
def test_the_month_is_the_merchants_across_summer_time(merchant, frozen_clock, zone,
                                                      last_evening):
    merchant.merchant.timezone = zone
    db.session.commit()
    factories.points_program(merchant.merchant, welcome_bonus_points=0)
    store = ActionContext(store_id=merchant.stores[0].id)
    local = __import__("zoneinfo").ZoneInfo(zone)
    frozen_clock.set(datetime(2026, 3, 1, 0, 30, tzinfo=local).astimezone(UTC))  # winter
    card = factories.card(merchant.merchant, "Clock", store=merchant.stores[0])
    points.earn_points(card, 100, context=store)  # 10 points on 1 March, 00:30 local
    frozen_clock.set(datetime(2026, 2, 28, 23, 30, tzinfo=local).astimezone(UTC))
    points.earn_points(card, 300, context=store)  # 30 points: February's, 23:30 local
    frozen_clock.set(last_evening)
    points.earn_points(card, 500, context=store)  # 50 points: March's last evening
    frozen_clock.set(datetime(2026, 4, 1, 0, 10, tzinfo=local).astimezone(UTC))
    points.earn_points(card, 700, context=store)  # 70 points: April's
    march = st.statement(merchant.merchant, periods.month_period("2026-03")).lines[0]
    assert (march.units["opening"], march.units[st.ISSUED], march.units["closing"]) \
        == (30, 60, 90)
    april = st.statement(merchant.merchant, periods.month_period("2026-04")).lines[0]
    assert (april.units["opening"], april.units[st.ISSUED]) == (90, 70)


def test_breakage_rate_and_net_liability(merchant, frozen_clock):
    factories.points_program(merchant.merchant, point_value_cents=Decimal("1"))
    _at(frozen_clock, 2025, 6, 10, 10)
    card = factories.card(merchant.merchant, "Lapsing", store=merchant.stores[0])
    points.earn_points(card, 10000, context=ActionContext(store_id=merchant.stores[0].id))
    _at(frozen_clock, 2024, 12, 10, 10)  # outside the trailing 12 months of June 2026
    old = factories.card(merchant.merchant, "Old", store=merchant.stores[0])
    _write(old, T.POINTS_EARNED)
    _at(frozen_clock, 2026, 5, 10, 10)
    for _n in range(25):
        _write(card, T.POINTS_EXPIRED)  # 25 x 11 = 275 of the 1000 issued
    line = st.statement(merchant.merchant, periods.month_period("2026-05")).lines[0]
    assert (line.issued_trailing, line.expired_trailing) == (1000, 275)
    assert line.breakage_rate == Fraction(275, 1000)
    assert line.units["closing"] == 1000 + 125 - 275
    assert line.net_liability_cents == st.cents(Fraction(850) * Fraction(725, 1000))  # 616.25
    assert line.net_liability_cents == 616
    assert str(statement_csv.rate(line.breakage_rate, ",")) == "27,5"


def test_rounding_is_half_up_away_from_zero():
    assert [st.cents(Fraction(x)) for x in ("0.5", "1.49", "-0.5", "-2.5", "350/3")] \
        == [1, 1, -1, -3, 117]


def test_periods_read_and_refuse():
    assert periods.month_period("2026-03") == periods.Period(date(2026, 3, 1), date(2026, 4, 1))
    assert periods.month_period("2026-12").end_day == date(2027, 1, 1)
    assert periods.range_period("2026-03-05", "2026-03-05").end_day == date(2026, 3, 6)
    for bad in ("2026-13", "26-03", "2026-3", "x", "1899-01", "2026-03-01"):
        with pytest.raises(periods.PeriodError):
            periods.month_period(bad)
    with pytest.raises(periods.PeriodError, match="order"):
        periods.range_period("2026-03-05", "2026-03-01")
    with pytest.raises(periods.PeriodError, match="dates"):
        periods.range_period("2026-02-30", "2026-03-01")
    assert periods.last_closed_month("Europe/Luxembourg", datetime(2026, 1, 10, tzinfo=UTC)) \
        == periods.month_period("2025-12")


def test_platform_totals_sum_merchants_per_currency(hybrid, other_merchant, frozen_clock):
    factories.points_program(other_merchant.merchant, point_value_cents=Decimal("2"))
    other_merchant.merchant.currency = "CHF"
    db.session.commit()
    _every_kind(hybrid, frozen_clock, 2026, 3)
    card = factories.card(other_merchant.merchant, "Swiss", store=other_merchant.stores[0])
    points.earn_points(card, 1000, context=ActionContext(store_id=other_merchant.stores[0].id))
    period = periods.month_period("2026-03")
    totals = st.platform_totals(period)
    assert list(totals) == ["CHF", "EUR"]
    assert totals["CHF"]["closing"] == 200 and totals["CHF"]["merchants"] == 1
    assert totals["EUR"]["closing"] == st.statement(hybrid.merchant, period).total_cents["closing"]
    for figures in totals.values():
        assert figures["opening"] + sum(figures[c] for c in st.MOVEMENTS) == figures["closing"]


def test_a_unit_the_program_dropped_keeps_its_line_while_the_ledger_has_it(hybrid,
                                                                           frozen_clock):
    _at(frozen_clock, 2026, 5, 10, 10)
    card = factories.card(hybrid.merchant, "Stamped", store=hybrid.stores[0])
    _write(card, T.STAMP_EARNED)
    program = db.session.scalar(select(LoyaltyProgram).where(
        LoyaltyProgram.merchant_id == hybrid.merchant.id))
    program.program_type = ProgramType.POINTS  # the shop stopped giving stamps
    db.session.commit()
    result = st.statement(hybrid.merchant, periods.month_period("2026-05"))
    lines = {line.unit: line for line in result.lines}
    assert set(lines) == {st.POINTS, st.STAMPS}
    assert lines[st.STAMPS].units["closing"] == _card_totals(hybrid.merchant.id)[1] > 0
    assert lines[st.STAMPS].cents["closing"] > 0
    _at(frozen_clock, 2026, 6, 10, 10)
    with write_transaction():
        locked = lock_card(card.id, card.merchant_id)
        append(locked, T.STAMP_ADJUSTED, ActionContext(user_id=hybrid.owner.id),
               stamps=-locked.stamp_count)
    db.session.commit()
    # Nothing left and nothing moved since the line's month: June still shows the adjustment.
    june = st.statement(hybrid.merchant, periods.month_period("2026-06"))
    assert [line.units["closing"] for line in june.lines if line.unit == st.STAMPS] == [0]
