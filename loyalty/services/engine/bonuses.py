"""Gifts the program gives on its own: the birthday bonus.

A customer may give their birthday (day and month, never the year). When the program has a
birthday bonus (``birthday_bonus_points`` / ``birthday_bonus_stamps``, 0 = none), each active
card whose birthday falls within the next ``birthday_days_ahead`` days of the merchant's local
date (or passed at most ``CATCH_UP_DAYS`` ago: mornings that did not run) gets it once a
year: one ``birthday_bonus`` ledger row under the card's lock (a batch of cards in two
statements: one ``INSERT``, one ``UPDATE``), keyed
``birthday-<card>-<local date of the grant>`` (the ledger's unique index backs it), and the
card's ``birthday_granted_at`` set; a card is due again only ``MIN_DAYS_BETWEEN`` days after
its last grant, so a morning run again, or two at once, gives nothing more, and a birthday
moved across New Year (2 January to 30 December, or back) gives neither two bonuses days
apart nor none in a year but one: the next after ``MIN_DAYS_BETWEEN`` days.

A 29 February birthday is celebrated on 28 February in the years without one.

The bonus is given to every customer who gave a birthday, consent to offers or not; the email
that says so is the delivery area's (``services/delivery/birthdays.py``), sent only to those who
agreed to offers by email. An erased customer's card is closed and their birthday wiped: it
gets nothing. The gift is not a visit: ``last_activity_at`` stays (a win-back bonus still
open is not kept by it, no new period of inactivity starts, the old points' expiry is not put
off). Instead points expiry leaves the card alone for ``GIFT_KEPT_DAYS`` after the gift
(``engine/points.expire_points``): a gift just given never vanishes the next morning.
"""
import calendar
from datetime import date, timedelta

from sqlalchemy import and_, case, insert, or_, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from loyalty import clock, metrics
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import (
    LIFETIME_COUNTERS,
    Customer,
    LoyaltyCard,
    LoyaltyProgram,
    LoyaltyTransaction,
    TransactionType,
)
from loyalty.services import events
from loyalty.services.engine import point_lots

#: A birthday whose morning did not run (the worker was down) is still celebrated this many
#: days after it.
CATCH_UP_DAYS = 3
MAX_DAYS_AHEAD = 30
#: Days after a birthday bonus before the card may get the next one (a year, less the moves
#: of its day: days ahead changed, a birthday moved).
MIN_DAYS_BETWEEN = 300
#: Days after a birthday bonus during which points expiry leaves the card alone: the days
#: ahead it may be given (at most ``MAX_DAYS_AHEAD``) and a month after the birthday.
GIFT_KEPT_DAYS = 60
#: Cards granted per transaction.
BATCH = 500


def birthday_date(year, month, day):
    """The day a (``month``, ``day``) birthday falls on in ``year``: 29 February is 28 February
    in a year without it. None for a day no year has."""
    if month == 2 and day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    try:
        return date(year, month, day)
    except ValueError:
        return None


def is_valid_birthday(day, month):
    """Whether (``day``, ``month``) is a day some year has (29 February included)."""
    if not (isinstance(day, int) and isinstance(month, int) and 1 <= month <= 12):
        return False
    return birthday_date(2024, month, day) is not None  # a leap year: 29 February is one


def due_birthdays(today, days_ahead, catch_up=CATCH_UP_DAYS):
    """``{(month, day): year}`` of the birthdays whose bonus is due on ``today`` (the merchant's
    local date): from ``catch_up`` days ago to ``days_ahead`` days ahead; the year is that of
    the birthday (a bonus given on 28 December for 2 January is the next year's)."""
    due = {}
    for offset in range(-catch_up, days_ahead + 1):
        when = today + timedelta(days=offset)
        due[(when.month, when.day)] = when.year
        if when.month == 2 and when.day == 28 and not calendar.isleap(when.year):
            due[(2, 29)] = when.year
    return due


def grant_key(card_id, today):
    """The ledger's idempotency key of the card's birthday bonus given on ``today``."""
    return f"birthday-{card_id}-{today.isoformat()}"


def bonus_of(program):
    """(points, stamps) the program gives for a birthday; (0, 0) when it gives nothing."""
    if program is None:
        return 0, 0
    points = program.birthday_bonus_points if program.has_points else 0
    stamps = program.birthday_bonus_stamps if program.has_stamps else 0
    return max(points or 0, 0), max(stamps or 0, 0)


def _due_cards(program, due, now):
    """The program's cards due a bonus, locked, in one statement (a batch of them)."""
    C = LoyaltyCard
    birthdays = [and_(Customer.birth_month == month, Customer.birth_day == day)
                 for month, day in due]
    return db.session.scalars(
        select(C).join(Customer, Customer.id == C.customer_id)
        .where(C.program_id == program.id, C.merchant_id == program.merchant_id,
               C.is_active.is_(True), Customer.erased_at.is_(None), or_(*birthdays),
               or_(C.birthday_granted_at.is_(None),
                   C.birthday_granted_at <= now - timedelta(days=MIN_DAYS_BETWEEN)))
        .options(joinedload(C.customer))
        .order_by(C.id).limit(BATCH)
        .with_for_update(of=C)
        .execution_options(populate_existing=True)
    ).unique().all()


def grant_birthday_bonuses(merchant_id, today, *, then=None):
    """Give the birthday bonus to the merchant's cards due it on ``today`` (their local date).

    Returns the cards granted, as ``(card id, birthday year)``. ``then(cards)`` runs in each
    batch's transaction with the cards just granted (their customers loaded): what should
    follow a grant (its email) commits with it, or not at all.
    """
    program = db.session.scalar(select(LoyaltyProgram).where(
        LoyaltyProgram.merchant_id == merchant_id, LoyaltyProgram.is_active.is_(True)))
    points, stamps = bonus_of(program)
    if not (points or stamps):
        return []
    days_ahead = min(max(program.birthday_days_ahead or 0, 0), MAX_DAYS_AHEAD)
    due = due_birthdays(today, days_ahead)
    granted = []
    while True:
        with write_transaction():
            now = clock.now()
            cards = _due_cards(program, due, now)
            if not cards:
                break
            _grant(cards, today, now, points, stamps)
            granted.extend((card.id, due[(card.customer.birth_month, card.customer.birth_day)])
                           for card in cards)
            if then is not None:
                then(cards)
        db.session.expire_all()
    return granted


def _grant(cards, today, now, points, stamps):
    """The bonus of a batch of locked cards, set-based: one ``INSERT`` of their ledger rows,
    one ``UPDATE`` of the cards (not a visit: ``last_activity_at`` stays), whatever their
    number. The loaded cards are brought up to what was written (the webhooks' payload)."""
    C, T = LoyaltyCard, LoyaltyTransaction.__table__
    rows = [dict(merchant_id=card.merchant_id, card_id=card.id,
                 transaction_type=TransactionType.BIRTHDAY_BONUS, stamps_delta=stamps,
                 points_delta=points, stamps_balance_after=card.stamp_count + stamps,
                 points_balance_after=card.points_balance + points, void_shortfall=0,
                 offline=False, idempotency_key=grant_key(card.id, today), transaction_at=now,
                 created_at=now)
            for card in cards]
    ids = dict(db.session.execute(insert(T).values(rows).returning(T.c.card_id, T.c.id)).all())
    counters = {attribute: getattr(C, attribute) + sign * (
                    stamps if delta_name == "stamps_delta" else points)
                for attribute, (types, delta_name, sign) in LIFETIME_COUNTERS.items()
                if TransactionType.BIRTHDAY_BONUS in types}
    db.session.execute(
        update(C).where(C.id.in_([card.id for card in cards]))
        .values(stamp_count=C.stamp_count + stamps, points_balance=C.points_balance + points,
                birthday_granted_at=now,
                pass_updated_at=case((or_(C.apple_serial_number.is_not(None),
                                          C.google_object_id.is_not(None)), now),
                                     else_=C.pass_updated_at),
                **counters)
        .execution_options(synchronize_session=False))
    point_lots.credit_cards(db.session.get(LoyaltyProgram, cards[0].program_id),
                            [(card.id, points, ids[card.id]) for card in cards], now)
    metrics.count_ledger_rows(db.session, TransactionType.BIRTHDAY_BONUS, len(rows))
    events.cards_changed([card.id for card in cards])
    for card, row in zip(cards, rows, strict=True):
        set_committed_value(card, "stamp_count", row["stamps_balance_after"])
        set_committed_value(card, "points_balance", row["points_balance_after"])
        set_committed_value(card, "birthday_granted_at", now)
    events.transactions_recorded(cards[0].merchant_id, [  # webhooks, if any
        (card, {**row, "id": ids[card.id]}) for card, row in zip(cards, rows, strict=True)])
