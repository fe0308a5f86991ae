"""Points lots: a program whose points expire by earning date keeps each card's points by the
local month they were earned (``models/point_lots.py``), so that ``sum(points_left)`` of a
card's lots is always its ``points_balance``.

Every points change of such a card follows its ledger row here (``ledger.append`` calls
``follow``; the set-based bonuses call ``credit_cards`` / ``debit_cards``):

- a credit (purchase, welcome, birthday and win-back bonuses, a positive adjustment...) adds
  to the lot of the month it is written in: one ``INSERT ... ON CONFLICT DO UPDATE``;
- a debit (redemption, negative adjustment, erasure, a win-back bonus taken back...) takes
  from the oldest lots first (FIFO): one read of the card's few lots (the card is locked),
  one ``UPDATE``; a redemption also keeps what it took from each lot (``point_lot_moves``);
- a void of a purchase takes back from the lot that purchase went to first (then, if its
  points were partly spent since, from the oldest lots); undoing a redemption gives the
  points back to the lots it took them from (a lot dropped since, by a change of rule, is
  replaced by the current month's).
"""
from collections import defaultdict
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import case, select, update
from sqlalchemy.dialects import postgresql, sqlite

from loyalty.extensions import db
from loyalty.models import (
    LoyaltyProgram,
    LoyaltyTransaction,
    Merchant,
    PointLot,
    PointLotMove,
    TransactionType,
)
from loyalty.services.engine.merchant_cache import known_version, merchant_rows

EARNING_MONTH = "earning_month"
INACTIVITY = "inactivity"
RULES = (INACTIVITY, EARNING_MONTH)
DEFAULT_MONTHS = 12


def uses_lots(program):
    return program is not None and program.points_expiry_rule == EARNING_MONTH


def month_of(at, timezone):
    """The first day of the local month of the UTC moment ``at``."""
    return at.astimezone(ZoneInfo(timezone)).date().replace(day=1)


def expires_on(earned_month, months):
    """The local day points earned in ``earned_month`` expire at its start: the first of the
    month ``months`` + 1 after it (January 2026, 12 months: 1 February 2027)."""
    index = earned_month.month - 1 + (months or DEFAULT_MONTHS) + 1
    return date(earned_month.year + index // 12, index % 12 + 1, 1)


def expires_at(earned_month, months, timezone):
    """When points earned in ``earned_month`` expire: local midnight starting
    ``expires_on(earned_month, months)`` (2027-02-01 00:00 local for January 2026 and 12
    months), in UTC."""
    local = datetime.combine(expires_on(earned_month, months), time(0),
                             tzinfo=ZoneInfo(timezone))
    return local.astimezone(ZoneInfo("UTC"))


def _program_of(card):
    """The card's program without a query when the request already holds the merchant's
    copy (a counter action), else from the session (its identity map, usually)."""
    if known_version(card.merchant_id) is not None:
        program = merchant_rows(card.merchant_id).program
        if program is not None and program.id == card.program_id:
            return program
    return db.session.get(LoyaltyProgram, card.program_id)


def _timezone(merchant_id):
    return db.session.get(Merchant, merchant_id).timezone


def _insert(table):
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def add_to_lots(rows):
    """Credit lots, one statement: ``rows`` of dicts merchant_id, card_id, earned_month,
    expires_at, points, source_transaction_id (one per card and month)."""
    if not rows:
        return
    table = PointLot.__table__
    statement = _insert(table).values([
        dict(merchant_id=r["merchant_id"], card_id=r["card_id"], earned_month=r["earned_month"],
             expires_at=r["expires_at"], points_earned=r["points"], points_left=r["points"],
             source_transaction_id=r["source_transaction_id"]) for r in rows])
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["card_id", "earned_month"],
        set_={"points_earned": table.c.points_earned + statement.excluded.points_earned,
              "points_left": table.c.points_left + statement.excluded.points_left}))


def _open_lots(card_ids):
    """card id -> its lots holding points, oldest first (one read)."""
    lots = defaultdict(list)
    for lot in db.session.execute(
            select(PointLot.id, PointLot.card_id, PointLot.earned_month, PointLot.points_left)
            .where(PointLot.card_id.in_(card_ids), PointLot.points_left > 0)
            .order_by(PointLot.card_id, PointLot.earned_month)):
        lots[lot.card_id].append(lot)
    return lots


def _set_left(left):
    """One UPDATE: lot id -> its new ``points_left``."""
    if left:
        db.session.execute(
            update(PointLot).where(PointLot.id.in_(list(left)))
            .values(points_left=case(left, value=PointLot.id))
            .execution_options(synchronize_session=False))


def take_from_lots(needs, *, first=None):
    """Take ``needs`` (card id -> points) from the cards' lots, oldest first (``first``: card
    id -> the earned_month taken from before any other). Returns {card id: [(lot id, taken)]};
    one read and one update whatever the number of cards."""
    needs = {card_id: points for card_id, points in needs.items() if points > 0}
    if not needs:
        return {}
    lots, left, taken = _open_lots(list(needs)), {}, defaultdict(list)
    for card_id, need in needs.items():
        month = (first or {}).get(card_id)
        ordered = sorted(lots.get(card_id, ()), key=lambda lot: (lot.earned_month != month,
                                                                  lot.earned_month))
        for lot in ordered:
            if need <= 0:
                break
            take = min(need, lot.points_left)
            left[lot.id] = lot.points_left - take
            taken[card_id].append((lot.id, take))
            need -= take
    _set_left(left)
    return taken


def credit_cards(program, credits, now):
    """Set-based credits of a program's cards written at ``now``: ``credits`` are (card id,
    points, ledger row id or None)."""
    if not uses_lots(program):
        return
    timezone = _timezone(program.merchant_id)
    month = month_of(now, timezone)
    due = expires_at(month, program.points_expiry_months, timezone)
    add_to_lots([dict(merchant_id=program.merchant_id, card_id=card_id, earned_month=month,
                      expires_at=due, points=points, source_transaction_id=row_id)
                 for card_id, points, row_id in credits if points > 0])


def debit_cards(program, needs):
    """Set-based debits (card id -> points) of a program's cards, oldest lots first."""
    if uses_lots(program):
        take_from_lots(needs)


def _give_back(card, program, original_id, points, row_id, now):
    """Undoing a redemption: its points go back to the lots it took them from."""
    moves = db.session.execute(
        select(PointLot.id, PointLot.points_left, PointLotMove.points)
        .join(PointLotMove, PointLotMove.lot_id == PointLot.id)
        .where(PointLotMove.transaction_id == original_id)).all()
    left = {}
    for lot_id, points_left, moved in moves:
        back = min(-moved, points)
        if back > 0:
            left[lot_id] = left.get(lot_id, points_left) + back
            points -= back
    _set_left(left)
    if points > 0:  # its lots were dropped since (a change of rule): this month's lot
        credit_cards(program, [(card.id, points, row_id)], now)


def follow(card, transaction_type, points, row_id, values):
    """Keep the card's lots in step with the ledger row just written (``ledger.append``)."""
    program = _program_of(card)
    if not points or not uses_lots(program):
        return
    now = values["transaction_at"]
    related = values.get("related_transaction_id")
    if transaction_type == TransactionType.POINTS_REWARD_VOIDED and related:
        _give_back(card, program, related, points, row_id, now)
    elif points > 0:
        credit_cards(program, [(card.id, points, row_id)], now)
    elif transaction_type == TransactionType.POINTS_VOIDED and related:
        earned_at = db.session.scalar(select(LoyaltyTransaction.transaction_at)
                                      .where(LoyaltyTransaction.id == related))
        first = {card.id: month_of(earned_at, _timezone(card.merchant_id))}
        take_from_lots({card.id: -points}, first=first)
    else:
        taken = take_from_lots({card.id: -points})
        if transaction_type == TransactionType.POINTS_REDEEMED and taken:
            db.session.execute(PointLotMove.__table__.insert().values([
                dict(lot_id=lot_id, transaction_id=row_id, points=-take)
                for lot_id, take in taken[card.id]]))
