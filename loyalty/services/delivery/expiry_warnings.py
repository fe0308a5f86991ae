"""Expiry warnings: a customer with an email hears, once per period of inactivity, that their
points expire soon (their program's ``expiry_warning_days`` before, 14 by default).

Set-based like the expiry itself: per program, batches of due cards under their row locks;
each batch marks its cards warned for their current period (``expiry_warned_for`` takes the
card's ``last_activity_at``) and writes their emails to the outbox in the same transaction.
Any activity starts a new period, so the next quiet spell warns again; the email itself is
composed when it is sent, and is dropped if the card was used or emptied in between.

Points that expire by earning month (``engine/point_lots``): a card is warned once per lot,
``expiry_warning_days`` before its next lot expires, of that lot's points and day; activity
does not keep them, a redemption before then uses them (oldest first).
"""
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update

from loyalty import clock
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.links import card_url
from loyalty.models import Customer, LoyaltyCard, LoyaltyProgram, Merchant, PointLot
from loyalty.services.delivery import mail
from loyalty.services.engine.lot_expiry import HOLDING, next_expiry, programs_with_lots
from loyalty.services.engine.point_lots import uses_lots
from loyalty.services.engine.points import programs_with_expiry

WARNING_BATCH = 1000


def warn_expiring_points(now=None, *, merchant_id=None):
    """Queue the warnings due now; returns how many. Running it again queues nothing more."""
    now = now or clock.now()
    programs = db.session.scalars(programs_with_expiry(merchant_id).where(
        LoyaltyProgram.expiry_warning_days > 0)).all()
    warned = 0
    for program in programs:
        period = timedelta(days=program.points_expiration_days)
        notice = timedelta(days=min(program.expiry_warning_days, program.points_expiration_days))
        # inactive since before ``warn_before``: their points expire within the notice
        # period; since ``expired_before`` or later: not expired yet
        while batch := _warn_batch(program, warn_before=now - period + notice,
                                   expired_before=now - period):
            warned += batch
    for program in db.session.scalars(programs_with_lots(merchant_id).where(
            LoyaltyProgram.expiry_warning_days > 0)).all():
        while batch := _warn_lot_batch(program, now,
                                       now + timedelta(days=program.expiry_warning_days)):
            warned += batch
    return warned


def _warn_lot_batch(program, now, horizon):
    """Points expiring by earning month: cards whose next lot expires before ``horizon``,
    warned once per lot (``expiry_warned_for`` takes the lot's ``expires_at``)."""
    C, L = LoyaltyCard, PointLot
    due = (select(func.min(L.expires_at)).where(L.card_id == C.id, HOLDING,
                                                L.expires_at > now)
           .correlate(C).scalar_subquery())
    with write_transaction():
        ids = db.session.scalars(
            select(C.id)
            .join(Customer, Customer.id == C.customer_id)
            .where(C.program_id == program.id, C.points_balance > 0, C.is_active.is_(True),
                   Customer.email.is_not(None), due <= horizon,
                   or_(C.expiry_warned_for.is_(None), C.expiry_warned_for < due))
            .order_by(C.id)
            .limit(WARNING_BATCH)
            .with_for_update(of=C)
        ).all()
        if not ids:
            return 0
        db.session.execute(update(C).where(C.id.in_(ids)).values(expiry_warned_for=due)
                           .execution_options(synchronize_session=False))
        mail.queue_emails("expiry_warning", [{"card_id": card_id} for card_id in ids],
                          merchant_id=program.merchant_id)
    return len(ids)


def _warn_batch(program, *, warn_before, expired_before):
    C = LoyaltyCard
    with write_transaction():
        ids = db.session.scalars(
            select(C.id)
            .join(Customer, Customer.id == C.customer_id)
            .where(C.program_id == program.id, C.points_balance > 0, C.is_active.is_(True),
                   C.last_activity_at < warn_before, C.last_activity_at >= expired_before,
                   Customer.email.is_not(None),
                   or_(C.expiry_warned_for.is_(None), C.expiry_warned_for != C.last_activity_at))
            .order_by(C.last_activity_at)
            .limit(WARNING_BATCH)
            .with_for_update(of=C)
        ).all()
        if not ids:
            return 0
        db.session.execute(update(C).where(C.id.in_(ids))
                           .values(expiry_warned_for=C.last_activity_at)
                           .execution_options(synchronize_session=False))
        mail.queue_emails("expiry_warning", [{"card_id": card_id} for card_id in ids],
                          merchant_id=program.merchant_id)
    return len(ids)


def warning_letter(payload):
    """The warning as it stands when sent: none if the card was used or emptied meanwhile."""
    card = db.session.get(LoyaltyCard, payload["card_id"], populate_existing=True)
    if card is not None and uses_lots(card.program):
        return _lot_letter(card)
    if (card is None or not card.is_active or card.points_balance <= 0
            or card.last_activity_at is None or card.expiry_warned_for != card.last_activity_at):
        return None
    customer, program = card.customer, card.program
    if customer is None or not customer.email or program.points_expiration_days is None:
        return None
    merchant = db.session.get(Merchant, card.merchant_id)
    expires_at = card.last_activity_at + timedelta(days=program.points_expiration_days)
    return mail.Letter(
        to=customer.email, locale=customer.preferred_locale or merchant.default_locale,
        subject=_l("Your %(shop)s points expire soon", shop=merchant.name),
        sender_name=merchant.name,
        context={"name": customer.name, "shop": merchant.name, "balance": card.points_balance,
                 "expires_on": expires_at.astimezone(ZoneInfo(merchant.timezone)).date(),
                 "link": card_url(card), "color": program.primary_color,
                 "country": merchant.country})


def _lot_letter(card):
    """The warning of the lot expiring next: none if it went meanwhile (spent, expired)."""
    customer, program = card.customer, card.program
    due = next_expiry(card.id, program)
    if (due is None or not card.is_active or customer is None or not customer.email
            or card.expiry_warned_for != due.at):
        return None
    merchant = db.session.get(Merchant, card.merchant_id)
    return mail.Letter(
        to=customer.email, locale=customer.preferred_locale or merchant.default_locale,
        subject=_l("Your %(shop)s points expire soon", shop=merchant.name),
        sender_name=merchant.name,
        context={"name": customer.name, "shop": merchant.name, "balance": card.points_balance,
                 "expires_on": due.on, "lot_points": due.points, "link": card_url(card),
                 "color": program.primary_color, "country": merchant.country})
