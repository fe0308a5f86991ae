"""Stamp card actions: add a stamp, redeem the stamp reward (voids live in ``voids.py``)."""
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

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


def _stamps_today(card, timezone, now):
    return db.session.scalar(
        select(func.count(LoyaltyTransaction.id)).where(
            LoyaltyTransaction.card_id == card.id,
            LoyaltyTransaction.transaction_type == TransactionType.STAMP_EARNED,
            LoyaltyTransaction.transaction_at >= clock.local_day_start(now, timezone),
        )
    )


def add_stamp(card, *, context, idempotency_key=None):
    """One stamp, unless the cooldown or the daily cap (merchant's local day) says no."""

    def action(card, program, staff_pin):
        _require_stamps(program)
        now = clock.now()
        timezone = db.session.get(Merchant, card.merchant_id).timezone
        if card.last_stamp_at is not None and program.cooldown_minutes:
            ready_at = card.last_stamp_at + timedelta(minutes=program.cooldown_minutes)
            if now < ready_at:
                minutes_left = max(1, int((ready_at - now).total_seconds() + 59) // 60)
                raise Refused(
                    _l("This card got a stamp less than %(cooldown)s minutes ago. "
                       "The next stamp is possible in %(minutes)s min, at %(time)s.",
                       cooldown=program.cooldown_minutes, minutes=minutes_left,
                       time=clock.local_time_label(ready_at, timezone)),
                    ready_at=ready_at,
                )
        if _stamps_today(card, timezone, now) >= program.max_stamps_per_day:
            raise Refused(
                _l("This card already got %(count)s stamps today, the daily limit. "
                   "More stamps are possible tomorrow from 00:00.",
                   count=program.max_stamps_per_day),
            )
        card.last_stamp_at = now
        card.last_activity_at = now
        return append(card, TransactionType.STAMP_EARNED, context, stamps=1,
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
