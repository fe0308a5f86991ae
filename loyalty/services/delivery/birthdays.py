"""The birthday step of each merchant's morning, and the birthday email.

The bonus itself is the engine's (``services/engine/bonuses.py``): every card whose customer
gave a birthday gets it, once per year, whether or not they agreed to offers by email. The
email that tells them is an offer, so it goes only to customers who consented to offers by
email (``marketing``: with its one-click unsubscribe), in their language; it is written to the
outbox in the grant's own transaction, and composed when sent (nothing is sent if the customer
unsubscribed, erased their data or lost their card meanwhile).

"Today" is the merchant's local date (their time zone), the day their morning runs.
"""
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from loyalty import clock
from loyalty.extensions import db
from loyalty.links import card_url, external_url
from loyalty.models import LoyaltyCard, LoyaltyTransaction, Merchant, TransactionType
from loyalty.services.delivery import mail, marketing
from loyalty.services.engine import bonuses

TEMPLATE = "birthday"
#: The owner's preview of the email: a customer's name, and what it shows while the bonus is
#: off (points, else stamps).
PREVIEW_NAME = "Alex"
PREVIEW_POINTS, PREVIEW_STAMPS = 50, 1


def merchant_today(merchant, now=None):
    """The merchant's local date at ``now``."""
    return (now or clock.now()).astimezone(ZoneInfo(merchant.timezone)).date()


def celebrate_birthdays(merchant_id, now=None):
    """The morning step: grant the birthday bonuses due today (the merchant's local date) and
    queue their emails to the customers who consented to offers. Returns how many cards got
    the bonus. Running it again the same day (or twice at once) gives and sends nothing more."""
    merchant = db.session.get(Merchant, merchant_id)
    if merchant is None:
        return 0
    today = merchant_today(merchant, now)

    def queue_emails(cards):
        """In the grant's transaction: one email per granted card whose customer may be sent
        offers (the customers were loaded with the cards: no query per card)."""
        payloads = [{"card_id": card.id, "key": bonuses.grant_key(card.id, today)}
                    for card in cards if card.customer is not None and card.customer.email
                    and card.customer.marketing_consent]
        if payloads:
            mail.queue_emails(TEMPLATE, payloads, merchant_id=cards[0].merchant_id)

    granted = bonuses.grant_birthday_bonuses(merchant_id, today, then=queue_emails)
    return len(granted)


def _gift(card_id, key):
    """(points, stamps) the card was given by the birthday bonus ``key`` (the ledger row's)."""
    T = LoyaltyTransaction
    row = db.session.execute(select(T.points_delta, T.stamps_delta).where(
        T.card_id == card_id, T.transaction_type == TransactionType.BIRTHDAY_BONUS,
        T.idempotency_key == key)).first()
    return (row.points_delta, row.stamps_delta) if row is not None else (0, 0)


def _context(program, *, points, stamps, link):
    return {"points": points, "stamps": stamps, "link": link, "color": program.primary_color}


def birthday_letter(payload):
    """The email as it stands when sent: none if the card was closed, or its customer
    unsubscribed, erased their data or has no email any more."""
    card = db.session.get(LoyaltyCard, payload["card_id"], populate_existing=True)
    if card is None or not card.is_active:
        return None
    points, stamps = _gift(card.id, payload.get("key"))
    if not (points or stamps):
        return None
    merchant = db.session.get(Merchant, card.merchant_id)
    return marketing.letter(
        card, subject=_l("A birthday gift from %(shop)s", shop=merchant.name),
        context=_context(card.program, points=points, stamps=stamps,
                         link=card_url(card)))


def preview(merchant, program, locale):
    """The birthday email as a customer reading ``locale`` would get it (subject, text, HTML),
    with the program's bonus (an example while it is off) and a sample name, for the owner's
    page."""
    points, stamps = bonuses.bonus_of(program)
    if not (points or stamps):
        points = PREVIEW_POINTS if program.has_points else 0
        stamps = 0 if points else PREVIEW_STAMPS
    letter = mail.Letter(
        to="", locale=locale, subject=_l("A birthday gift from %(shop)s", shop=merchant.name),
        sender_name=merchant.name,
        context={"shop": merchant.name, "name": PREVIEW_NAME, "country": merchant.country,
                 **_context(program, points=points, stamps=stamps,
                            link=external_url("storefront.program", slug=merchant.slug)),
                 "unsubscribe_url": external_url("storefront.program", slug=merchant.slug)})
    _locale, subject, text, html = mail.compose(TEMPLATE, letter)
    return {"subject": subject, "text": text, "html": html}
