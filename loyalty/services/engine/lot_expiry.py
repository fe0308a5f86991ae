"""Expiry by earning date: the morning's expiry of due lots, what a card shows of its next
expiry, and changing a program from one expiry rule to the other (``point_lots`` keeps the
lots in step with every points change).

Changing the rule:

- inactivity -> earning month: the lots are built from the ledger. Each card's balance is
  covered by its most recent credits (any ledger row adding points), newest first, and those
  points go to the lots of the local months the credits were written in: what was spent or
  taken is, oldest first, what came first (FIFO). Set-based per batch of cards: one read of the
  cards, one of their credits, one insert of their lots. Points from more than N months back
  are due at once: the next morning expires them (the owner's page says so).
- earning month -> inactivity: the lots are dropped; the balance stays whole and expires
  after the program's period of inactivity, counted from the card's last activity.
- earning month, another N: the lots' ``expires_at`` follow the new N.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, delete, func, literal, literal_column, select, update

from loyalty import clock, metrics
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import (
    LoyaltyCard,
    LoyaltyProgram,
    LoyaltyTransaction,
    Merchant,
    PointLot,
    PointLotMove,
    ProgramType,
    TransactionType,
    UTCDateTime,
)
from loyalty.services import events
from loyalty.services.engine.point_lots import (
    EARNING_MONTH,
    INACTIVITY,
    add_to_lots,
    expires_at,
    expires_on,
    month_of,
    uses_lots,
)

LOT_EXPIRY_BATCH = 5000
#: Lots still holding points, written as the due index's predicate itself (a bound ``0`` would
#: keep a prepared statement's generic plan off the partial index: 85 ms a scan at 200,000).
HOLDING = PointLot.points_left > literal_column("0")
REBUILD_BATCH = 1000


def programs_with_lots(merchant_id=None):
    query = select(LoyaltyProgram).where(LoyaltyProgram.points_expiry_rule == EARNING_MONTH,
                                         LoyaltyProgram.program_type != ProgramType.STAMPS)
    if merchant_id is not None:
        query = query.where(LoyaltyProgram.merchant_id == merchant_id)
    return query


def expire_lots(now=None, *, merchant_id=None):
    """Expire the due lots (``expires_at`` passed, points left) of the programs that expire
    points by earning date: per program, batches of cards, each one locking read, one
    ``INSERT ... SELECT`` of their ``points_expired`` rows (a card's due lots summed), one
    update of the cards and one of the lots, committed as it goes (a deleted card's lots expire
    too, so that no batch finds them again). A card a counter action
    holds is waited for; its lots are read after the lock. Running it again expires nothing
    more (the lots are empty). Returns the number of cards expired."""
    now = now or clock.now()
    expired = 0
    for program in db.session.scalars(programs_with_lots(merchant_id)).all():
        while (batch := _expire_lot_batch(program, now)) is not None:
            expired += batch
    return expired


def _due(ids, now):
    L = PointLot
    return (L.card_id.in_(ids), L.expires_at <= now, HOLDING)


def _expire_lot_batch(program, now):
    C, L = LoyaltyCard, PointLot
    with write_transaction():
        # the due lots' cards (their index), then those cards locked by id: two reads, none
        # over the cards table (a deleted card's points expire too: its ledger stays whole)
        # (in the due index's order: a prepared statement's generic plan keeps to it)
        due_cards = set(db.session.scalars(
            select(L.card_id)
            .where(L.merchant_id == program.merchant_id, L.expires_at <= now, HOLDING)
            .order_by(L.expires_at).limit(LOT_EXPIRY_BATCH)).all())
        if not due_cards:
            return None
        ids = db.session.scalars(select(C.id).where(C.id.in_(due_cards)).order_by(C.id)
                                 .with_for_update().execution_options(include_deleted=True)).all()
        written = max(now, clock.now())
        due = (select(L.card_id, func.sum(L.points_left).label("points"))
               .where(*_due(ids, now)).group_by(L.card_id).subquery())
        T = LoyaltyTransaction.__table__
        db.session.execute(T.insert().from_select(
            ["merchant_id", "card_id", "transaction_type", "stamps_delta", "points_delta",
             "stamps_balance_after", "points_balance_after", "void_shortfall",
             "transaction_at", "created_at", "notes"],
            select(C.merchant_id, C.id, literal(TransactionType.POINTS_EXPIRED.value),
                   literal(0), -due.c.points, C.stamp_count, C.points_balance - due.c.points,
                   literal(0), literal(written, UTCDateTime()), literal(written, UTCDateTime()),
                   literal("points earned by month: lots due"))
            .join(due, due.c.card_id == C.id).where(C.id.in_(ids))))
        db.session.execute(  # UPDATE ... FROM the due sums: one join, not a read per card
            update(C).where(C.id == due.c.card_id, C.id.in_(ids))
            .values(points_expired_total=C.points_expired_total + due.c.points,
                    points_balance=C.points_balance - due.c.points,
                    pass_updated_at=case((C.apple_serial_number.is_not(None), written),
                                         (C.google_object_id.is_not(None), written),
                                         else_=C.pass_updated_at))
            .execution_options(synchronize_session=False))
        db.session.execute(update(L).where(*_due(ids, now)).values(points_left=0)
                           .execution_options(synchronize_session=False))
        metrics.count_ledger_rows(db.session, TransactionType.POINTS_EXPIRED, len(ids))
        events.cards_changed(ids)
        events.points_expired(program.id, ids, written)
    return len(ids)


@dataclass(frozen=True)
class NextExpiry:
    """The card's points expiring next: how many, when (UTC), and that moment's local day."""

    points: int
    at: datetime
    on: date


def next_expiry(card_id, program):
    """The card's lot expiring next as a ``NextExpiry``, or None (one read; none at all when
    the program's points do not expire by earning month)."""
    if not uses_lots(program):
        return None
    row = db.session.execute(
        select(PointLot.points_left, PointLot.expires_at, PointLot.earned_month)
        .where(PointLot.card_id == card_id, PointLot.points_left > 0)
        .order_by(PointLot.expires_at).limit(1)).first()
    if row is None:
        return None
    return NextExpiry(row.points_left, row.expires_at,
                      expires_on(row.earned_month, program.points_expiry_months))


def rule_changed(program, old_rule, old_months):
    """Bring the lots in step with the program's expiry rule, changed from ``old_rule`` (and
    ``old_months``), in the caller's transaction."""
    new_rule = program.points_expiry_rule
    if new_rule == EARNING_MONTH and old_rule != EARNING_MONTH:
        build_lots(program)
    elif new_rule == INACTIVITY and old_rule == EARNING_MONTH:
        drop_lots(program.merchant_id)
    elif new_rule == EARNING_MONTH and program.points_expiry_months != old_months:
        _redate_lots(program)


def drop_lots(merchant_id):
    lots = select(PointLot.id).where(PointLot.merchant_id == merchant_id)
    db.session.execute(delete(PointLotMove).where(PointLotMove.lot_id.in_(lots))
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(PointLot).where(PointLot.merchant_id == merchant_id)
                       .execution_options(synchronize_session=False))


def _redate_lots(program):
    timezone = db.session.get(Merchant, program.merchant_id).timezone
    months = db.session.scalars(select(PointLot.earned_month).distinct()
                                .where(PointLot.merchant_id == program.merchant_id)).all()
    if months:
        db.session.execute(
            update(PointLot).where(PointLot.merchant_id == program.merchant_id)
            .values(expires_at=case(
                {month: expires_at(month, program.points_expiry_months, timezone)
                 for month in months}, value=PointLot.earned_month))
            .execution_options(synchronize_session=False))


def build_lots(program):
    """The program's cards' lots from the ledger (see the module's docstring)."""
    drop_lots(program.merchant_id)
    timezone = db.session.get(Merchant, program.merchant_id).timezone
    C, T = LoyaltyCard, LoyaltyTransaction
    after = 0
    while True:
        cards = db.session.execute(
            select(C.id, C.points_balance)
            .where(C.program_id == program.id, C.points_balance > 0, C.id > after)
            .order_by(C.id).limit(REBUILD_BATCH).execution_options(include_deleted=True)).all()
        if not cards:
            return
        after = cards[-1].id
        owed = dict(cards)
        lots = defaultdict(lambda: [0, None])  # (card, month) -> [points, first row]
        for row in db.session.execute(
                select(T.card_id, T.id, T.points_delta, T.transaction_at)
                .where(T.card_id.in_(list(owed)), T.points_delta > 0)
                .order_by(T.card_id, T.id.desc())):
            take = min(owed[row.card_id], row.points_delta)
            if take > 0:
                owed[row.card_id] -= take
                lot = lots[(row.card_id, month_of(row.transaction_at, timezone))]
                lot[0] += take
                lot[1] = row.id
        now_month = month_of(clock.now(), timezone)
        for card_id, points in owed.items():  # never: a balance is the ledger's sum
            if points > 0:
                lots[(card_id, now_month)][0] += points
        add_to_lots([dict(merchant_id=program.merchant_id, card_id=card_id, earned_month=month,
                          expires_at=expires_at(month, program.points_expiry_months, timezone),
                          points=points, source_transaction_id=first)
                     for (card_id, month), (points, first) in lots.items()])
