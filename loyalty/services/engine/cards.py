"""Enrollment, card lookup (always within the acting merchant), and card activation."""
import re
import secrets
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from loyalty import clock
from loyalty.contacts import fold, normalize_email, normalize_phone
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import MAX_ID, Customer, LoyaltyCard, Merchant, TransactionType
from loyalty.services import audit
from loyalty.services.engine.ledger import ActionContext, append, find_replay, lock_card
from loyalty.services.engine.program_rows import live_program, loyalty_settings
from loyalty.services.errors import NO_CARD, CardNotFound, Conflict, InvalidInput, Refused

CARD_NUMBER_DIGITS = 12


def new_card_number():
    digits = f"{secrets.randbelow(10 ** CARD_NUMBER_DIGITS):0{CARD_NUMBER_DIGITS}d}"
    return "-".join(digits[i:i + 4] for i in range(0, CARD_NUMBER_DIGITS, 4))


def normalize_card_number(text):
    """``1234 5678 9012``, ``123456789012`` and ``1234-5678-9012`` are the same card; else None."""
    digits = re.sub(r"[\s\-]", "", text or "")
    if not re.fullmatch(rf"\d{{{CARD_NUMBER_DIGITS}}}", digits):
        return None
    return "-".join(digits[i:i + 4] for i in range(0, CARD_NUMBER_DIGITS, 4))


def _cards(merchant_id):
    """The merchant's cards, each with its customer (the counter always shows the name)."""
    return (
        select(LoyaltyCard)
        .where(LoyaltyCard.merchant_id == merchant_id)
        .options(joinedload(LoyaltyCard.customer))
    )


@cache
def _card_by(column):
    """The merchant's card whose ``column`` is the bound ``value``, with its customer. Built
    once per lookup: the counter runs these on every scan."""
    return (
        select(LoyaltyCard)
        .where(LoyaltyCard.merchant_id == bindparam("merchant_id"),
               getattr(LoyaltyCard, column) == bindparam("value"))
        .options(joinedload(LoyaltyCard.customer))
    )


def _one_card(merchant_id, column, value):
    card = db.session.scalar(_card_by(column), {"merchant_id": merchant_id, "value": value})
    if card is None:
        raise CardNotFound(NO_CARD)
    return card


def card_by_id(merchant_id, card_id):
    if card_id is None or not 0 < card_id <= MAX_ID:
        raise CardNotFound(NO_CARD)
    return _one_card(merchant_id, "id", card_id)


def card_by_qr_token(merchant_id, token):
    return _one_card(merchant_id, "qr_token", (token or "").strip())


def card_by_number(merchant_id, number):
    normalized = normalize_card_number(number)
    if not normalized:
        raise CardNotFound(NO_CARD)
    return _one_card(merchant_id, "card_number", normalized)


def search_cards(merchant_id, text, limit=20, *, region=None):
    """Cards whose customer matches an email, a phone number in any usual form (``region``
    gives the default prefix) or part of a name, without regard to accents or case."""
    text = (text or "").strip()
    if len(text) < 2:
        return []
    query = _cards(merchant_id).join(Customer, Customer.id == LoyaltyCard.customer_id)
    conditions = [Customer.search_name.contains(fold(text), autoescape=True)]
    phone = normalize_phone(text, region) if len(re.sub(r"\D", "", text)) >= 6 else None
    if "@" in text:
        conditions = [Customer.email == normalize_email(text)]
    elif phone:
        conditions.append(Customer.phone == phone)
    return db.session.scalars(query.where(or_(*conditions)).order_by(Customer.name).limit(limit)).all()


def find_card(merchant_id, text):
    """One card from what staff typed or scanned: a card number or a QR token."""
    text = (text or "").strip()
    if normalize_card_number(text):
        return card_by_number(merchant_id, text)
    return card_by_qr_token(merchant_id, text)


def _existing_customer(merchant_id, email, phone):
    conditions = []
    if email:
        conditions.append(Customer.email == email)
    if phone:
        conditions.append(Customer.phone == phone)
    return db.session.scalar(
        select(Customer).where(Customer.merchant_id == merchant_id, or_(*conditions))
    )


def enroll_customer(merchant, *, name, email=None, phone=None, locale=None, consent=True,
                    self_service=False, context=None, idempotency_key=None,
                    terms_version=None, then=None):
    """Give a customer their card at ``merchant`` (creating the customer if new).

    Refuses an inactive program, self-enrollment when the merchant turned it off, and a
    second card for the same customer. Writes ``card_created`` and the welcome bonus.
    A repeated ``idempotency_key`` returns the card the first request created. ``then(card)``
    runs in the same transaction (work the enrollment asks for, such as its welcome email).
    """
    context = context or ActionContext()
    replay = find_replay(merchant.id, idempotency_key)
    if replay is not None:
        return db.session.get(LoyaltyCard, replay.card_id)
    email = normalize_email(email) or None
    typed_phone, phone = phone, normalize_phone(phone, merchant.country)
    if (typed_phone or "").strip() and phone is None:
        raise InvalidInput(_l("Enter a phone number like 621 123 456 or +352 621 123 456."),
                           field="phone")
    if not (name or "").strip():
        raise InvalidInput(_l("Enter the customer's name."))
    if not email and not phone:
        raise InvalidInput(_l("Enter an email address or a phone number."))
    if email and "@" not in email:
        raise InvalidInput(_l("Enter a valid email address."))
    program = live_program(merchant.id)
    if program is None or not program.is_active:
        raise Refused(_l("The loyalty program is not active at the moment, so no cards can be issued."))
    if self_service and not loyalty_settings(merchant.id).allow_self_enrollment:
        raise Refused(_l("Sign-up online is not available for this shop. Ask at the counter."))
    duplicate = _l("This customer already has a card. Look it up instead.")
    try:
        with write_transaction():
            # One enrollment per merchant at a time (SQLite already serialises writers): two
            # tablets enrolling the same phone number cannot both miss the existing customer.
            db.session.execute(
                select(Merchant.id).where(Merchant.id == merchant.id).with_for_update())
            replay = find_replay(merchant.id, idempotency_key)
            if replay is not None:  # the first request finished while we waited for the lock
                return db.session.get(LoyaltyCard, replay.card_id)
            customer = _existing_customer(merchant.id, email, phone)
            if customer is None:
                customer = Customer(
                    merchant_id=merchant.id, name=name.strip(), email=email, phone=phone,
                    preferred_locale=locale, consent_at=clock.now() if consent else None,
                    terms_version=terms_version if consent else None,
                )
                db.session.add(customer)
                db.session.flush()
            else:
                existing = db.session.scalar(select(LoyaltyCard.id).where(
                    LoyaltyCard.customer_id == customer.id))
                if existing:
                    raise Conflict(duplicate, card_id=existing)  # staff are shown that card
            card = LoyaltyCard(
                merchant_id=merchant.id,
                program_id=program.id,
                customer_id=customer.id,
                card_number=new_card_number(),
                qr_token=secrets.token_urlsafe(24),
                apple_auth_token=secrets.token_urlsafe(24),
                enrolled_at_store_id=context.store_id,
                last_activity_at=clock.now(),
            )
            db.session.add(card)
            db.session.flush()
            append(card, TransactionType.CARD_CREATED, context, idempotency_key=idempotency_key)
            if program.has_points and program.welcome_bonus_points:
                append(card, TransactionType.WELCOME_BONUS, context,
                       points=program.welcome_bonus_points)
            if then is not None:
                then(card)
    except IntegrityError as exc:
        replay = find_replay(merchant.id, idempotency_key)
        if replay is not None:
            return db.session.get(LoyaltyCard, replay.card_id)
        raise Conflict(duplicate) from exc
    return card


def deactivate_card(card, *, reason=None, context=None, actor=None):
    return _set_active(card, False, TransactionType.CARD_DEACTIVATED, reason, context, actor)


def reactivate_card(card, *, reason=None, context=None, actor=None):
    return _set_active(card, True, TransactionType.CARD_REACTIVATED, reason, context, actor)


def _set_active(card, active, transaction_type, reason, context, actor):
    with write_transaction():
        card = lock_card(card.id, card.merchant_id)
        if active and card.customer.erased_at is not None:
            raise Refused(_l("This card's customer deleted their data: the card stays closed."))
        if card.is_active == active:
            message = _l("This card is already active.") if active else _l("This card is already deactivated.")
            raise Refused(message)
        card.is_active = active
        append(card, transaction_type, context, notes=reason)
        audit.record(actor, "card.reactivate" if active else "card.deactivate", card,
                     merchant_id=card.merchant_id, label=card.card_number,
                     changes={"is_active": (not active, active), "reason": (None, reason)})
    return card
