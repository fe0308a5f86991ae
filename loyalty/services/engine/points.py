"""Points actions: earn for a purchase, redeem a catalogue reward, expire (voids: ``voids.py``)."""
from datetime import timedelta
from decimal import Decimal

from flask_babel import format_currency, lazy_ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from loyalty import clock, metrics
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import (
    LoyaltyCard,
    LoyaltyProgram,
    LoyaltyTransaction,
    Merchant,
    ProgramType,
    TransactionType,
    UTCDateTime,
)
from loyalty.services import events
from loyalty.services.engine import bonuses, happy_hours, lot_expiry
from loyalty.services.engine.actions import run_card_action
from loyalty.services.engine.ledger import append, touch
from loyalty.services.engine.merchant_cache import merchant_rows
from loyalty.services.engine.point_lots import INACTIVITY
from loyalty.services.engine.rules import (
    check_cross_location,
)
from loyalty.services.errors import InvalidInput, Refused

EXPIRY_BATCH = 2000

#: The largest purchase one action credits (100,000.00 in the merchant's currency).
MAX_PURCHASE_CENTS = 10_000_000


def _require_points(program):
    if not program.has_points:
        raise Refused(_l("This program does not use points."))


def _normalize_order_reference(reference):
    reference = (reference or "").strip()
    if len(reference) > 64:
        raise InvalidInput(_l("The order reference is too long (64 characters at most)."))
    return reference or None


def check_purchase_amount(amount_cents):
    """Refuse an amount no purchase can have (none, negative, or past ``MAX_PURCHASE_CENTS``)."""
    if amount_cents is None or amount_cents <= 0:
        raise InvalidInput(_l("Enter the purchase amount."))
    if amount_cents > MAX_PURCHASE_CENTS:
        raise InvalidInput(_l("This amount is too large for one purchase."))


def already_earned(reference):
    return Refused(_l("Order %(reference)s already earned points. Nothing was added.",
                      reference=reference))


def earning_action(amount_cents, *, context, order_reference=None, idempotency_key=None,
                   check_reference=True):
    """The rules and ledger row of a purchase's points, as an action for ``run_card_action``
    (``earn_points`` runs it alone; an API order runs it beside its stamps, under one lock).
    ``check_reference=False`` leaves a reference credited before to the unique index (the
    insert fails, the caller says so: ``already_earned``), sparing a read on every order."""
    order_reference = _normalize_order_reference(order_reference)
    check_purchase_amount(amount_cents)

    def action(card, program, staff_pin):
        _require_points(program)
        if amount_cents < program.minimum_purchase_cents:
            raise Refused(
                _l("Purchases below %(minimum)s earn no points.",
                   minimum=format_currency(Decimal(program.minimum_purchase_cents) / 100,
                                           db.session.get(Merchant, card.merchant_id).currency))
            )
        if order_reference and check_reference and db.session.scalar(
            select(LoyaltyTransaction.id).where(
                LoyaltyTransaction.merchant_id == card.merchant_id,
                LoyaltyTransaction.transaction_type == TransactionType.POINTS_EARNED,
                LoyaltyTransaction.order_reference == order_reference,
            )
        ):
            raise already_earned(order_reference)
        points = program.points_for(amount_cents)
        if points < 1:
            raise Refused(_l("This amount is too small to earn a point."))
        at = context.counter_at or clock.now()  # a purchase a tablet kept: when it was made
        happy = happy_hours.for_action(
            merchant_rows(card.merchant_id), "points", context.store_id, at,
            lambda: db.session.get(Merchant, card.merchant_id).timezone)
        multiplied = {}
        if happy is not None:  # the row keeps the base and names the happy hour
            multiplied = {"base_delta": points, "happy_hour_id": happy.id}
            points *= happy.factor
        touch(card, context, at, "last_points_at", "last_activity_at")
        return append(card, TransactionType.POINTS_EARNED, context, points=points,
                      staff_pin=staff_pin, idempotency_key=idempotency_key,
                      purchase_amount_cents=amount_cents, order_reference=order_reference,
                      **multiplied)

    return action


def earn_points(card, amount_cents, *, context, order_reference=None, idempotency_key=None,
                then=None):
    """Credit floor(amount x points per euro / 100) points; once per order reference."""
    order_reference = _normalize_order_reference(order_reference)
    action = earning_action(amount_cents, context=context, order_reference=order_reference,
                            idempotency_key=idempotency_key)
    try:
        return run_card_action(card, context, idempotency_key, action, then=then)
    except IntegrityError as error:
        # Another card credited this order between our check and our insert: the unique
        # index is the last word (an idempotency-key clash was already replayed).
        if order_reference:
            raise already_earned(order_reference) from error
        raise


def redeem_reward(card, reward_id, *, context, idempotency_key=None, then=None):
    """Spend a catalogue reward's points; refused below the minimum or without enough points."""

    def action(card, program, staff_pin):
        _require_points(program)
        check_cross_location(card, context)
        reward = next((r for r in merchant_rows(card.merchant_id).rewards
                       if r.id == reward_id and r.program_id == program.id), None)
        if reward is None:
            raise Refused(_l("This reward is not available any more."))
        if card.points_balance < program.minimum_redemption_points:
            raise Refused(
                lazy_ngettext("Rewards can be redeemed from %(num)d point; this card has "
                              "%(balance)s.",
                              "Rewards can be redeemed from %(num)d points; this card has "
                              "%(balance)s.",
                              program.minimum_redemption_points, balance=card.points_balance)
            )
        if card.points_balance < reward.points_cost:
            raise Refused(
                _l("Not enough points: %(reward)s costs %(cost)s, this card has %(balance)s.",
                   reward=reward.name, cost=reward.points_cost, balance=card.points_balance)
            )
        now = clock.now()
        card.last_redemption_at = now
        card.last_activity_at = now
        return append(card, TransactionType.POINTS_REDEEMED, context, points=-reward.points_cost,
                      staff_pin=staff_pin, idempotency_key=idempotency_key,
                      reward_id=reward.id, reward_description=reward.name)

    return run_card_action(card, context, idempotency_key, action, then=then)


def programs_with_expiry(merchant_id=None):
    """The points programs whose points expire after inactivity (one merchant's, or all;
    those expiring by earning date: ``lot_expiry.programs_with_lots``)."""
    query = select(LoyaltyProgram).where(
        LoyaltyProgram.points_expiration_days.is_not(None),
        LoyaltyProgram.program_type != ProgramType.STAMPS,
        LoyaltyProgram.points_expiry_rule == INACTIVITY,
    )
    if merchant_id is not None:
        query = query.where(LoyaltyProgram.merchant_id == merchant_id)
    return query


def expire_points(now=None, *, merchant_id=None):
    """Expire the points of cards inactive for their program's ``points_expiration_days``.

    Set-based: per program, batches of the due cards oldest first (through a partial index of
    the cards that still hold points: an expired card leaves it, so no batch reads what an
    earlier one did), each one locking read, one ``INSERT ... SELECT`` of the ledger rows and
    one card update, committed as it goes. A card a counter action holds is waited for and read again: the action's
    activity keeps its points. Running it again expires nothing more (the balances are already
    zero). ``merchant_id`` limits it to one merchant (merchants can then run side by side).
    Returns the number of cards expired. Programs whose points expire by earning date expire
    their due lots instead (``lot_expiry.expire_lots``).

    A gift just given is not taken by the next morning: a card whose win-back bonus is still
    open (``winback_bonus_until`` not passed: the email promised it until then) or whose
    birthday bonus is younger than ``bonuses.GIFT_KEPT_DAYS`` keeps its whole balance until
    then; neither gift counts as a visit, so once it is over (an unused win-back bonus is
    first taken back by that morning's lapse step) the points expire as they would have.
    """
    now = now or clock.now()
    programs = db.session.scalars(programs_with_expiry(merchant_id)).all()
    expired = 0
    for program in programs:
        cutoff = now - timedelta(days=program.points_expiration_days)
        while batch := _expire_batch(program.id, cutoff, now):
            expired += batch
    return expired + lot_expiry.expire_lots(now, merchant_id=merchant_id)


def _expire_batch(program_id, cutoff, now):
    """Expire the oldest due cards of the program, up to a batch; returns how many. Its rows
    carry the time they are written (a long run's later batches are not dated at its start:
    the dashboard's day sums count on a row committing soon after its time)."""
    C = LoyaltyCard
    now = max(now, clock.now())
    with write_transaction():
        ids = db.session.scalars(
            select(C.id)
            .where(C.program_id == program_id, C.points_balance > 0,
                   C.last_activity_at < cutoff,
                   or_(C.winback_bonus_until.is_(None), C.winback_bonus_until <= now),
                   or_(C.birthday_granted_at.is_(None),
                       C.birthday_granted_at <= now - timedelta(days=bonuses.GIFT_KEPT_DAYS)))
            .order_by(C.last_activity_at)
            .limit(EXPIRY_BATCH)
            .with_for_update()
        ).all()
        if not ids:
            return 0
        T = LoyaltyTransaction.__table__
        db.session.execute(T.insert().from_select(
            ["merchant_id", "card_id", "transaction_type", "stamps_delta", "points_delta",
             "stamps_balance_after", "points_balance_after", "void_shortfall",
             "transaction_at", "created_at", "notes"],
            select(C.merchant_id, C.id, literal(TransactionType.POINTS_EXPIRED.value), literal(0),
                   -C.points_balance, C.stamp_count, literal(0), literal(0),
                   literal(now, UTCDateTime()), literal(now, UTCDateTime()),
                   literal(f"inactive since before {cutoff.date().isoformat()}"))
            .where(C.id.in_(ids)),
        ))
        db.session.execute(
            update(C)
            .where(C.id.in_(ids))
            .values(points_expired_total=C.points_expired_total + C.points_balance,
                    points_balance=0,
                    pass_updated_at=case((or_(C.apple_serial_number.is_not(None),
                                              C.google_object_id.is_not(None)), now),
                                         else_=C.pass_updated_at))
            .execution_options(synchronize_session=False)
        )
        metrics.count_ledger_rows(db.session, TransactionType.POINTS_EXPIRED, len(ids))
        events.cards_changed(ids)
        events.points_expired(program_id, ids, now)
    return len(ids)
