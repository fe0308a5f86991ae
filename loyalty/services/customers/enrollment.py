"""Customers joining on their own (``/m/<slug>/join``), and the emails that answer them.

Whoever enters an email gets the same answer: "check your inbox". A new customer's card is
created with its welcome bonus and its welcome email in one transaction; someone who already
has a card is emailed its link instead (at the address on that card), so the page never tells
whether an address is known. "Send me my card's link" only records the request (one outbox
row, whatever the address): its job looks the card up and sends the link, or nothing, so the
answer and the work behind it are the same for a known address and an unknown one. A
recipient gets at most ``CARD_LINK_RECIPIENT_LIMIT`` link emails, whoever asks (``mail``).
"""
import hashlib

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.links import card_url
from loyalty.models import Customer, LoyaltyCard, Merchant, Store
from loyalty.services.customers import birthdays
from loyalty.services.delivery import mail, marketing
from loyalty.services.engine import cards
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.localized import language_of
from loyalty.services.engine.merchant_cache import merchant_rows
from loyalty.services.errors import Conflict
from loyalty.services.merchant.texts import text_for
from loyalty.services.platform.accounts import normalize_email


def terms_version(terms_text):
    """A short digest of the terms a customer was shown (empty terms: "none")."""
    text = (terms_text or "").strip()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12] if text else "none"


def open_store_id(merchant_id, code):
    """The id of the merchant's open store of ``code`` (a store's poster and join link name
    it), or None: an unknown or closed store's link still lets the customer join, with no
    store."""
    code = (code or "").strip().upper()[:32]
    if not code:
        return None
    return db.session.scalar(select(Store.id).where(
        Store.merchant_id == merchant_id, Store.code == code, Store.is_active.is_(True)))


def self_enroll(merchant, *, first_name, last_name, email, phone=None, locale=None,
                birthday=None,
                terms_locale=None, store_code=None, marketing_consent=False, ip_address=None):
    """Enroll, or email the existing card's link. Returns the new card, or None. The terms
    agreed to are those shown in ``terms_locale`` (the page's language). A new card is the
    open store's of ``store_code`` (the store's join link): its managers see it.
    ``marketing_consent`` (the separate, unticked box) records a yes to offers by email for a
    new card only: someone else typing a known address never changes its owner's choice."""
    program = merchant_rows(merchant.id).program
    name = f"{first_name.strip()} {last_name.strip()}".strip()
    context = ActionContext(store_id=open_store_id(merchant.id, store_code))

    def welcome(card):
        if birthday:  # (day, month), checked by the form
            birthdays.set_on(card.customer, *birthday)
        if marketing_consent and email:
            marketing.record_consent(card.customer, True, source="join", ip_address=ip_address)
        mail.queue_email("welcome", merchant_id=merchant.id, card_id=card.id)

    try:
        return cards.enroll_customer(
            merchant, name=name, email=email, phone=phone, locale=locale, consent=True,
            self_service=True, context=context,
            terms_version=terms_version(
                text_for(program, "terms_text", terms_locale) if program else None),
            then=welcome)
    except Conflict as known:
        card_id = known.details.get("card_id")
        if card_id is None:
            raise
        with write_transaction():
            mail.queue_email("card_link", merchant_id=merchant.id, card_id=card_id)
        return None


def resend_card_link(merchant, email):
    """Ask for the link of ``merchant``'s card under ``email`` to be emailed again: one outbox
    row, the same whether or not there is such a card (its job looks the card up)."""
    with write_transaction():
        mail.queue_email("card_link", merchant_id=merchant.id, reason="resend",
                         lookup={"merchant_id": merchant.id, "email": normalize_email(email)})


def _card_of(payload):
    """The card the email is about: named by id, or looked up by the address someone typed."""
    if "card_id" in payload:
        return db.session.get(LoyaltyCard, payload["card_id"], populate_existing=True)
    lookup = payload.get("lookup") or {}
    if not lookup.get("email"):
        return None
    return db.session.scalar(
        select(LoyaltyCard).join(Customer, Customer.id == LoyaltyCard.customer_id)
        .where(LoyaltyCard.merchant_id == lookup.get("merchant_id"),
               Customer.email == lookup["email"])
        .execution_options(populate_existing=True))


def _letter(payload, subject):
    card = _card_of(payload)
    if card is None or card.customer is None or not card.customer.email:
        return None
    merchant = db.session.get(Merchant, card.merchant_id)
    program = card.program
    locale = card.customer.preferred_locale or merchant.default_locale
    return mail.Letter(
        to=card.customer.email, locale=locale,
        subject=subject(merchant.name), sender_name=merchant.name,
        context={"name": card.customer.name, "shop": merchant.name,
                 "card_name": text_for(program, "card_name", locale), "card_number": card.card_number,
                 # the card's name in the shop's language when none was given in the reader's
                 "card_name_lang": language_of(program, "card_name", locale,
                                               merchant.default_locale),
                 "points": card.points_balance if program.has_points else None,
                 "link": card_url(card), "color": program.primary_color,
                 "resend": payload.get("reason") == "resend"})


def welcome_letter(payload):
    return _letter(payload, lambda shop: _l("Welcome to %(shop)s: your loyalty card", shop=shop))


def card_link_letter(payload):
    return _letter(payload, lambda shop: _l("Your %(shop)s loyalty card", shop=shop))
