"""Stamp card actions: add a stamp, redeem the stamp reward (voids live in ``voids.py``)."""
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from loyalty import clock
from loyalty.extensions import db
from loyalty.models import LoyaltyTransaction, Merchant, TransactionType
from loyalty.services.actions import run_card_action
from loyalty.services.errors import Refused
from loyalty.services.ledger import append
from loyalty.services.rules import (
    check_cross_location,
)


def _require_stamps(program):
    if not program.has_stamps:
        raise Refused(_l("This program does not use stamps."))


#: The most stamps one action gives (two coffees, three croissants ...).
MAX_STAMPS_AT_ONCE = 20


def _standing_stamps(card, since):
    """The card's ``stamp_earned`` rows since ``since`` with what each still stands for (what
    it gave minus what voids really took back: a shortfall took nothing, so it frees neither
    the cap nor the cooldown), newest first."""
    T, V = LoyaltyTransaction, aliased(LoyaltyTransaction)
    claimed = (select(func.coalesce(func.sum(-V.stamps_delta), 0))
               .where(V.related_transaction_id == T.id)
               .correlate(T).scalar_subquery())
    return db.session.execute(
        select(T.transaction_at, T.stamps_delta - claimed)
        .where(T.card_id == card.id, T.transaction_type == TransactionType.STAMP_EARNED,
               T.transaction_at >= since)
        .order_by(T.transaction_at.desc())
    ).all()


def stamps_left_today(card, program, timezone, now):
    """How many more stamps the daily cap allows today (merchant's local day); a voided stamp
    does not count."""
    given = sum(max(left, 0) for _at, left in
                _standing_stamps(card, clock.local_day_start(now, timezone)))
    return max(program.max_stamps_per_day - given, 0)


def _cooldown_ends(card, program, now):
    """When the cooldown after the last stamp that still stands ends, or None: voiding the
    stamp that started it lifts it."""
    if not program.cooldown_minutes:
        return None
    window = timedelta(minutes=program.cooldown_minutes)
    standing = [at for at, left in _standing_stamps(card, now - window) if left > 0]
    return standing[0] + window if standing else None


def add_stamp(card, *, context, idempotency_key=None, quantity=1):
    """``quantity`` stamps in one ledger row, unless the cooldown or the daily cap (merchant's
    local day) says no."""
    if not 1 <= quantity <= MAX_STAMPS_AT_ONCE:
        raise Refused(_l("Give between 1 and %(most)s stamps at once.", most=MAX_STAMPS_AT_ONCE))

    def action(card, program, staff_pin):
        _require_stamps(program)
        now = clock.now()
        timezone = db.session.get(Merchant, card.merchant_id).timezone
        ready_at = _cooldown_ends(card, program, now)
        if ready_at is not None and now < ready_at:
            minutes_left = max(1, int((ready_at - now).total_seconds() + 59) // 60)
            raise Refused(
                _l("This card got a stamp less than %(cooldown)s minutes ago. "
                   "The next stamp is possible in %(minutes)s min, at %(time)s.",
                   cooldown=program.cooldown_minutes, minutes=minutes_left,
                   time=clock.local_time_label(ready_at, timezone)),
                ready_at=ready_at,
            )
        left = stamps_left_today(card, program, timezone, now)
        if left == 0:
            raise Refused(
                _l("This card already got %(count)s stamps today, the daily limit. "
                   "More stamps are possible tomorrow from 00:00.",
                   count=program.max_stamps_per_day),
            )
        if quantity > left:
            raise Refused(_l("Only %(left)s more stamps are possible on this card today.",
                             left=left))
        card.last_stamp_at = now
        card.last_activity_at = now
        return append(card, TransactionType.STAMP_EARNED, context, stamps=quantity,
                      staff_pin=staff_pin, idempotency_key=idempotency_key)

    return run_card_action(card, context, idempotency_key, action)


def redeem_stamp_reward(card, *, context, idempotency_key=None):
    """Exchange ``stamps_target`` stamps for the reward."""

    def action(card, program, staff_pin):
        _require_stamps(program)
        check_cross_location(card, context)
        if card.stamp_count < program.stamps_target:
            raise Refused(
                _l("Not enough stamps yet: %(have)s of %(need)s.",
                   have=card.stamp_count, need=program.stamps_target)
            )
        now = clock.now()
        card.last_redemption_at = now
        card.last_activity_at = now
        return append(card, TransactionType.STAMP_REDEEMED, context,
                      stamps=-program.stamps_target, staff_pin=staff_pin,
                      idempotency_key=idempotency_key,
                      reward_description=program.stamp_reward_description)

    return run_card_action(card, context, idempotency_key, action)
