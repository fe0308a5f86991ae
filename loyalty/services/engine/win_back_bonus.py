"""The win-back bonus in the ledger: given with the win-back email, taken back if unused.

The bonus is one ``winback_bonus`` row per card and period of inactivity (idempotency key
``winback-<card>-<the last activity it answers>``: a rerun can never give it twice; the
unique index refuses it). It does not count as a visit (``last_activity_at`` stays), nor in
the lifetime "earned" counters: it is a gift, not a purchase.

The card keeps, in ``winback_bonus_until``, when it lapses (the program's
``winback_bonus_days`` at the time it was given). A visit before then (any stamp, purchase or
reward: ``last_activity_at`` moves past the bonus) keeps the bonus for good; it was given to
bring the customer back, and it did. Otherwise, on the first morning after, one
``winback_lapsed`` row (``related_transaction_id``: the bonus) takes back what of the bonus
the card still holds, never more than its balance (what could not be taken back, because
points expired or were adjusted meanwhile, is ``void_shortfall``); the card's
``winback_bonus_until`` is cleared, so the next morning finds nothing. Both steps are
set-based: a few statements per batch of cards, never one per card.

While the bonus is open, points expiry leaves the card alone (``engine/points``): the email
promised the gift until ``winback_bonus_until``, so the whole balance waits for it. The
morning takes lapsed bonuses back before it expires points (``jobs/points``), so an unused
gift goes back as ``winback_lapsed`` and the card's own points then expire as usual. A
birthday bonus is not a visit either: it keeps no win-back bonus.
"""
from sqlalchemy import case, func, insert, or_, select, update

from loyalty import metrics
from loyalty.extensions import db
from loyalty.models import LoyaltyCard, LoyaltyProgram, LoyaltyTransaction, TransactionType
from loyalty.services import events
from loyalty.services.engine import point_lots

LAPSE_BATCH = 1000


def bonus_of(program):
    """``(stamps, points)`` the program's win-back bonus gives (what its kind can hold)."""
    stamps = program.winback_bonus_stamps if program.has_stamps else 0
    points = program.winback_bonus_points if program.has_points else 0
    return max(stamps or 0, 0), max(points or 0, 0)


def _pass_touched(now):
    C = LoyaltyCard
    return case((or_(C.apple_serial_number.is_not(None), C.google_object_id.is_not(None)), now),
                else_=C.pass_updated_at)


def grant(program, cards, now, until):
    """Give the bonus to ``cards`` (rows of id, stamp_count, points_balance,
    last_activity_at, locked by the caller). Returns the number of rows written."""
    stamps, points = bonus_of(program)
    if not cards or not (stamps or points):
        return 0
    rows = [dict(merchant_id=program.merchant_id, card_id=card.id,
                 transaction_type=TransactionType.WINBACK_BONUS, stamps_delta=stamps,
                 points_delta=points, stamps_balance_after=card.stamp_count + stamps,
                 points_balance_after=card.points_balance + points, void_shortfall=0,
                 idempotency_key=f"winback-{card.id}-{int(card.last_activity_at.timestamp())}",
                 transaction_at=now, created_at=now)
            for card in cards]
    db.session.execute(insert(LoyaltyTransaction.__table__).values(rows))
    C = LoyaltyCard
    ids = [card.id for card in cards]
    db.session.execute(
        update(C).where(C.id.in_(ids))
        .values(stamp_count=C.stamp_count + stamps, points_balance=C.points_balance + points,
                winback_bonus_until=until, pass_updated_at=_pass_touched(now))
        .execution_options(synchronize_session=False))
    point_lots.credit_cards(program, [(card_id, points, None) for card_id in ids], now)
    metrics.count_ledger_rows(db.session, TransactionType.WINBACK_BONUS, len(rows))
    events.cards_changed(ids)
    return len(rows)


def lapse_due(program_id, now):
    """Take back the lapsed bonuses of the program's cards, one batch under the cards' row
    locks (the caller's transaction). Returns how many cards were looked at (0: done)."""
    C, T = LoyaltyCard, LoyaltyTransaction
    cards = db.session.execute(
        select(C.id, C.merchant_id, C.stamp_count, C.points_balance, C.last_activity_at)
        .where(C.program_id == program_id, C.winback_bonus_until.is_not(None),
               C.winback_bonus_until <= now)
        .order_by(C.id).limit(LAPSE_BATCH).with_for_update(of=C)).all()
    if not cards:
        return 0
    ids = [card.id for card in cards]
    latest = (select(T.card_id, func.max(T.id).label("id"))
              .where(T.card_id.in_(ids), T.transaction_type == TransactionType.WINBACK_BONUS)
              .group_by(T.card_id).subquery())
    bonuses = {row.card_id: row for row in db.session.execute(
        select(T.id, T.card_id, T.stamps_delta, T.points_delta, T.transaction_at)
        .join(latest, latest.c.id == T.id))}
    rows, balances = [], {}
    for card in cards:
        bonus = bonuses.get(card.id)
        if bonus is None or (card.last_activity_at is not None
                             and card.last_activity_at > bonus.transaction_at):
            continue  # came back meanwhile: the bonus is theirs
        stamps = min(bonus.stamps_delta, card.stamp_count)
        points = min(bonus.points_delta, card.points_balance)
        shortfall = (bonus.stamps_delta - stamps) + (bonus.points_delta - points)
        balances[card.id] = (card.stamp_count - stamps, card.points_balance - points)
        rows.append(dict(merchant_id=card.merchant_id, card_id=card.id,
                         transaction_type=TransactionType.WINBACK_LAPSED, stamps_delta=-stamps,
                         points_delta=-points, stamps_balance_after=card.stamp_count - stamps,
                         points_balance_after=card.points_balance - points,
                         related_transaction_id=bonus.id, void_shortfall=shortfall,
                         idempotency_key=f"winback-lapse-{bonus.id}", transaction_at=now,
                         created_at=now))
    if rows:
        db.session.execute(insert(T.__table__).values(rows))
        point_lots.debit_cards(db.session.get(LoyaltyProgram, program_id),
                               {row["card_id"]: -row["points_delta"] for row in rows})
        metrics.count_ledger_rows(db.session, TransactionType.WINBACK_LAPSED, len(rows))
    values = {"winback_bonus_until": None}
    if balances:
        values.update(
            stamp_count=case({card_id: stamps for card_id, (stamps, _) in balances.items()},
                             value=C.id, else_=C.stamp_count),
            points_balance=case({card_id: points for card_id, (_, points) in balances.items()},
                                value=C.id, else_=C.points_balance),
            pass_updated_at=case((C.id.in_(list(balances)), _pass_touched(now)),
                                 else_=C.pass_updated_at))
    db.session.execute(update(C).where(C.id.in_(ids)).values(**values)
                       .execution_options(synchronize_session=False))
    if balances:
        events.cards_changed(list(balances))
    return len(cards)
