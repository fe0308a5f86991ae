"""Win-back: "we miss you" to members who stopped coming, once per period of inactivity.

The morning step of each merchant (``jobs/points.merchant_morning``) calls
``win_back_morning``: first the bonuses of earlier win-backs that lapsed unused are taken back
(``engine/win_back_bonus``), then, when the owner switched win-back on, the program's cards
inactive for ``winback_inactive_days`` whose customer consented to offers by email
(``marketing.consenting``: an email, not erased, not unsubscribed) get the email, and the
optional bonus (``winback_bonus_points`` / ``winback_bonus_stamps``, lapsing after
``winback_bonus_days`` unless they come back before).

Once per period: like the expiry warning, the card remembers in ``winback_sent_for`` the
``last_activity_at`` it was sent for. A new visit starts a new period, so a member who comes
back and stops again hears again after another ``winback_inactive_days``. Set-based: batches
of due cards are selected and locked with one query (customers joined: no query per card);
each batch marks its cards, grants the bonus and writes the emails to the outbox in one
transaction. The email itself is composed when it is sent (``win_back_letter``), in the
customer's language, and is dropped if they unsubscribed or visited meanwhile.
"""
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select, update

from loyalty import clock
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.links import card_url, external_url
from loyalty.models import (
    Customer,
    LoyaltyCard,
    LoyaltyProgram,
    LoyaltyTransaction,
    Merchant,
    TransactionType,
)
from loyalty.services.delivery import mail, marketing
from loyalty.services.engine import win_back_bonus

TEMPLATE = "win_back"
BATCH = 1000
PREVIEW_NAME = "Alex"


def _subject(shop):
    return _l("We miss you at %(shop)s", shop=shop)


def win_back_morning(merchant_id, now=None):
    """One merchant's win-back step. Returns ``{"lapsed": cards looked at, "sent": emails}``.
    Running it again the same day sends and grants nothing more."""
    now = now or clock.now()
    programs = db.session.scalars(select(LoyaltyProgram).where(
        LoyaltyProgram.merchant_id == merchant_id)).all()
    lapsed = sent = 0
    for program in programs:
        lapsed += _lapse(program.id, now)
        if program.winback_enabled and program.is_active:
            while batch := _send_batch(program, now):
                sent += batch
    return {"lapsed": lapsed, "sent": sent}


def _lapse(program_id, now):
    lapsed = 0
    while True:
        with write_transaction():
            batch = win_back_bonus.lapse_due(program_id, now)
        if not batch:
            return lapsed
        lapsed += batch


def lapse_bonuses(merchant_id, now=None):
    """Take back the merchant's win-back bonuses that lapsed unused. The morning runs it
    before points expiry (which leaves a card with an open bonus alone): the gift goes back
    as a ``winback_lapsed`` row, then the rest of a quiet card's points expire as usual.
    Returns how many cards were looked at."""
    now = now or clock.now()
    return sum(_lapse(program_id, now) for program_id in db.session.scalars(
        select(LoyaltyProgram.id).where(LoyaltyProgram.merchant_id == merchant_id)))


def _send_batch(program, now):
    C = LoyaltyCard
    cutoff = now - timedelta(days=program.winback_inactive_days)
    with write_transaction():
        cards = db.session.execute(
            select(C.id, C.stamp_count, C.points_balance, C.last_activity_at)
            .join(Customer, Customer.id == C.customer_id)
            .where(C.program_id == program.id, C.is_active.is_(True),
                   C.last_activity_at < cutoff, marketing.consenting(Customer),
                   or_(C.winback_sent_for.is_(None), C.winback_sent_for != C.last_activity_at))
            .order_by(C.last_activity_at, C.id)
            .limit(BATCH)
            .with_for_update(of=C)
        ).all()
        if not cards:
            return 0
        ids = [card.id for card in cards]
        db.session.execute(update(C).where(C.id.in_(ids))
                           .values(winback_sent_for=C.last_activity_at)
                           .execution_options(synchronize_session=False))
        win_back_bonus.grant(program, cards, now,
                             until=now + timedelta(days=program.winback_bonus_days))
        mail.queue_emails(TEMPLATE, [{"card_id": card_id} for card_id in ids],
                          merchant_id=program.merchant_id)
    return len(ids)


def audience(program, now=None):
    """``(consenting, due)`` for the owner's page: the program's active members who take
    offers by email, and how many of them the next morning would write to (quiet for
    ``winback_inactive_days``, not yet written to for this quiet spell). One query."""
    C = LoyaltyCard
    cutoff = (now or clock.now()) - timedelta(days=program.winback_inactive_days)
    due = and_(C.last_activity_at < cutoff,
               or_(C.winback_sent_for.is_(None), C.winback_sent_for != C.last_activity_at))
    row = db.session.execute(
        select(func.count(C.id), func.count(case((due, C.id))))
        .join(Customer, Customer.id == C.customer_id)
        .where(C.program_id == program.id, C.is_active.is_(True),
               marketing.consenting(Customer))).one()
    return row[0], row[1]


def _bonus_given(card):
    """(stamps, points, lapses at) of the bonus given with this period's email, if any."""
    key = f"winback-{card.id}-{int(card.last_activity_at.timestamp())}"
    T = LoyaltyTransaction
    row = db.session.execute(select(T.stamps_delta, T.points_delta).where(
        T.card_id == card.id, T.transaction_type == TransactionType.WINBACK_BONUS,
        T.idempotency_key == key)).first()
    if row is None:
        return 0, 0
    return row.stamps_delta, row.points_delta


def _context(merchant, program, *, stamps, points, until, link):
    return {"stamps": stamps, "points": points, "link": link, "color": program.primary_color,
            "bonus_until": until.astimezone(ZoneInfo(merchant.timezone)).date() if until else None}


def win_back_letter(payload):
    """The email as it stands when sent: none if the card was used, closed or emptied of its
    customer, or if the customer no longer takes offers by email."""
    card = db.session.get(LoyaltyCard, payload["card_id"], populate_existing=True)
    if (card is None or not card.is_active or card.last_activity_at is None
            or card.winback_sent_for != card.last_activity_at):
        return None
    merchant = db.session.get(Merchant, card.merchant_id)
    stamps, points = _bonus_given(card)
    return marketing.letter(card, subject=_subject(merchant.name), context=_context(
        merchant, card.program, stamps=stamps, points=points,
        until=card.winback_bonus_until if (stamps or points) else None, link=card_url(card)))


def preview(merchant, program, locale, now=None):
    """The win-back email as a customer reading ``locale`` would get it today (subject, text,
    HTML), with the program's bonus and a sample name, for the owner's page."""
    stamps, points = win_back_bonus.bonus_of(program)
    until = (now or clock.now()) + timedelta(days=program.winback_bonus_days)
    sample = external_url("storefront.program", slug=merchant.slug)
    letter = mail.Letter(
        to="", locale=locale, subject=_subject(merchant.name), sender_name=merchant.name,
        context={"shop": merchant.name, "name": PREVIEW_NAME, "country": merchant.country,
                 **_context(merchant, program, stamps=stamps, points=points,
                            until=until if (stamps or points) else None, link=sample),
                 "unsubscribe_url": sample})
    _locale, subject, text, html = mail.compose(TEMPLATE, letter)
    return {"subject": subject, "text": text, "html": html}
