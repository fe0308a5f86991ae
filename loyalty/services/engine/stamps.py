"""Stamp card actions: add a stamp, redeem the stamp reward (voids live in ``voids.py``)."""
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from loyalty import clock
from loyalty.extensions import db
from loyalty.models import LoyaltyTransaction, Merchant, TransactionType
from loyalty.services.engine import happy_hours
from loyalty.services.engine.actions import run_card_action
from loyalty.services.engine.ledger import append, touch
from loyalty.services.engine.merchant_cache import merchant_rows
from loyalty.services.engine.rules import (
    check_cross_location,
)
from loyalty.services.errors import Refused


def _require_stamps(program):
    if not program.has_stamps:
        raise Refused(_l("This program does not use stamps."))


#: The most stamps one action gives (two coffees, three croissants ...).
MAX_STAMPS_AT_ONCE = 20


def _stamp_time(rows):
    """When a ledger row happened: at the counter, for a row a tablet sent later."""
    return func.coalesce(rows.counter_at, rows.transaction_at)


def _standing_stamps(card, since=None, until=None):
    """The card's ``stamp_earned`` rows (from ``since``, before ``until``, by when they
    happened) with what each still stands for (what it gave minus what voids really took
    back: a shortfall took nothing, so it frees neither the cap nor the cooldown), newest
    first."""
    T, V = LoyaltyTransaction, aliased(LoyaltyTransaction)
    claimed = (select(func.coalesce(func.sum(-V.stamps_delta), 0))
               .where(V.related_transaction_id == T.id)
               .correlate(T).scalar_subquery())
    at = _stamp_time(T)
    query = (select(at, T.stamps_delta - claimed)
             .where(T.card_id == card.id, T.transaction_type == TransactionType.STAMP_EARNED)
             .order_by(at.desc()))
    if since is not None:
        query = query.where(at >= since)
    if until is not None:
        query = query.where(at < until)
    return db.session.execute(query).all()


def stamps_given_today(card, timezone, now):
    """Stamps that still stand from the merchant's local day of ``now``: kept on the card
    (``stamps_today`` of ``stamps_day``); a card stamped today before the counter existed
    counts its day from the ledger, once."""
    day = clock.local_date(now, timezone)
    if card.stamps_day == day:
        return card.stamps_today
    day_start = clock.local_day_start(now, timezone)
    if card.stamps_day is None and card.last_stamp_at is not None and card.last_stamp_at >= day_start:
        return sum(max(left, 0) for _at, left in _standing_stamps(card, day_start))
    return 0


def stamps_left_today(card, program, timezone, now):
    """How many more stamps the daily cap allows today (merchant's local day); a voided stamp
    does not count."""
    return max(program.max_stamps_per_day - stamps_given_today(card, timezone, now), 0)


def stamps_card_can_take(card, program, timezone, now):
    """The most stamps one action gives this card now: what the daily cap still allows, and
    never past the next full card (the target, counted from the stamps already on it)."""
    to_full_card = program.stamps_target - card.stamp_count % program.stamps_target
    return min(stamps_left_today(card, program, timezone, now), to_full_card)


def stamp_sheet_limits(card, program, timezone, now):
    """What the stamp sheet says before anything is typed: ``(most at once, left today under
    the daily cap, the cooldown's words or None)``."""
    return (stamps_card_can_take(card, program, timezone, now),
            stamps_left_today(card, program, timezone, now),
            cooldown_notice(card, program, timezone, now))


def _cooldown_ends(card, program):
    """When the cooldown after the last stamp that still stands ends, or None."""
    if not program.cooldown_minutes or card.last_stamp_at is None:
        return None
    return card.last_stamp_at + timedelta(minutes=program.cooldown_minutes)


def cooldown_notice(card, program, timezone, now):
    """Why this card cannot get a stamp before a moment (the cooldown after its last standing
    stamp), or None when it can: the words the stamp sheet shows before any PIN is typed are
    those ``add_stamp`` refuses with."""
    ready_at = _cooldown_ends(card, program)
    if ready_at is None or now >= ready_at:
        return None
    minutes_left = max(1, int((ready_at - now).total_seconds() + 59) // 60)
    return lazy_ngettext("This card got a stamp less than %(num)d minute ago. "
                         "The next stamp is possible in %(minutes)s min, at %(time)s.",
                         "This card got a stamp less than %(num)d minutes ago. "
                         "The next stamp is possible in %(minutes)s min, at %(time)s.",
                         program.cooldown_minutes, minutes=minutes_left,
                         time=clock.local_time_label(ready_at, timezone))


def stamps_voided(card, original, taken, timezone):
    """Keep the card's day count and last stamp true after a void took ``taken`` stamps of
    ``original`` back: the cap and the cooldown count only stamps that still stand."""
    if not taken:
        return
    happened = original.counter_at or original.transaction_at
    if card.stamps_day == clock.local_date(happened, timezone):
        card.stamps_today = max(card.stamps_today - taken, 0)
    standing = next((at for at, left in _standing_stamps(card) if left > 0), None)
    card.last_stamp_at = standing


def stamping_action(quantity, *, context, idempotency_key=None, **details):
    """The rules and ledger row of ``quantity`` stamps, as an action for ``run_card_action``
    (``add_stamp`` runs it alone; an API order runs it beside its points, under one lock).
    ``details`` go on the ledger row (an order's reference)."""
    if not 1 <= quantity <= MAX_STAMPS_AT_ONCE:
        raise Refused(_l("Give between 1 and %(most)s stamps at once.", most=MAX_STAMPS_AT_ONCE))

    def action(card, program, staff_pin):
        _require_stamps(program)
        timezone = db.session.get(Merchant, card.merchant_id).timezone
        if context.counter_at is not None:
            at = context.counter_at
            given = _check_stamp_kept_offline(card, program, timezone, at, quantity)
        else:
            at = clock.now()
            given = _check_stamp_now(card, program, timezone, at, quantity)
        extra, multiplied = _happy_hour_extra(card, program, context, at, timezone,
                                              quantity, given)
        day = clock.local_date(at, timezone)
        if card.stamps_day is None or day >= card.stamps_day:  # the day the card counts
            card.stamps_day, card.stamps_today = day, given + quantity + extra
        touch(card, context, at, "last_stamp_at", "last_activity_at")
        return append(card, TransactionType.STAMP_EARNED, context, stamps=quantity + extra,
                      staff_pin=staff_pin, idempotency_key=idempotency_key,
                      **multiplied, **details)

    return action


def _happy_hour_extra(card, program, context, at, timezone, quantity, given):
    """The extra stamps a happy hour running at ``at`` adds to this visit, and what the ledger
    row records of it. They count toward the daily cap: the visit's own stamps were checked
    against it, the extra ones fill what room is left that day (none left: the visit gets its
    own stamps only, and the row records no happy hour)."""
    happy = happy_hours.for_action(merchant_rows(card.merchant_id), "stamps", context.store_id,
                                   at, lambda: timezone)
    if happy is None:
        return 0, {}
    extra = min(happy.extra_stamps, max(program.max_stamps_per_day - given - quantity, 0))
    if extra < 1:
        return 0, {}
    return extra, {"base_delta": quantity, "happy_hour_id": happy.id}


def _check_stamp_now(card, program, timezone, now, quantity):
    """Refuse a stamp the cooldown or the daily cap stops now; returns the stamps the card
    already got today."""
    waiting = cooldown_notice(card, program, timezone, now)
    if waiting is not None:
        raise Refused(waiting, ready_at=_cooldown_ends(card, program))
    given = stamps_given_today(card, timezone, now)
    left = max(program.max_stamps_per_day - given, 0)
    if left == 0:
        raise Refused(
            lazy_ngettext("This card already got %(num)d stamp today, the daily limit. "
                          "More stamps are possible tomorrow from 00:00.",
                          "This card already got %(num)d stamps today, the daily limit. "
                          "More stamps are possible tomorrow from 00:00.",
                          program.max_stamps_per_day),
        )
    if quantity > left:
        raise Refused(lazy_ngettext("Only %(num)d more stamp is possible on this card today.",
                                    "Only %(num)d more stamps are possible on this card today.",
                                    left))
    return given


def _check_stamp_kept_offline(card, program, timezone, at, quantity):
    """The rules for stamps a tablet gave at ``at`` without connection, judged then: no
    standing stamp within the cooldown before or after it (the one after was given first, but
    the two together are what the cooldown forbids), and the daily cap of ``at``'s local day.
    Returns the stamps the card already had that day."""
    when = clock.local_time_label(at, timezone)
    window = timedelta(minutes=program.cooldown_minutes)
    if window and card.last_stamp_at is not None and card.last_stamp_at > at - window:
        near = [moment for moment, left in _standing_stamps(card, at - window, at + window)
                if left > 0 and abs(moment - at) < window]
        if near:
            raise Refused(lazy_ngettext(
                "This card got another stamp less than %(num)d minute from this one: "
                "the stamp from %(time)s was not added.",
                "This card got another stamp less than %(num)d minutes from this one: "
                "the stamp from %(time)s was not added.",
                program.cooldown_minutes, time=when))
    day_start = clock.local_day_start(at, timezone)
    if card.stamps_day == clock.local_date(at, timezone):
        given = card.stamps_today
    else:
        next_day = clock.local_day_start(day_start + timedelta(hours=36), timezone)
        given = sum(max(left, 0) for _at, left in _standing_stamps(card, day_start, next_day))
    left = max(program.max_stamps_per_day - given, 0)
    if quantity > left:
        raise Refused(lazy_ngettext(
            "This card had reached its daily limit of %(num)d stamp that day: "
            "the stamps from %(time)s were not added.",
            "This card had reached its daily limit of %(num)d stamps that day: "
            "the stamps from %(time)s were not added.",
            program.max_stamps_per_day, time=when) if left == 0 else lazy_ngettext(
            "Only %(num)d more stamp was possible on this card that day: "
            "the stamps from %(time)s were not added.",
            "Only %(num)d more stamps were possible on this card that day: "
            "the stamps from %(time)s were not added.", left, time=when))
    return given


def add_stamp(card, *, context, idempotency_key=None, quantity=1, then=None):
    """``quantity`` stamps in one ledger row, unless the cooldown or the daily cap (merchant's
    local day) says no."""
    action = stamping_action(quantity, context=context, idempotency_key=idempotency_key)
    return run_card_action(card, context, idempotency_key, action, then=then)


def redeem_stamp_reward(card, *, context, idempotency_key=None, then=None):
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

    return run_card_action(card, context, idempotency_key, action, then=then)
