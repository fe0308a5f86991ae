"""Enrolling a customer through the API: the counter's enrolment (``engine.cards``), with
the join page's checks of what was typed, every invalid field named at once.

The duplicate rule is the pages': a customer already known by this email or phone gets
their existing card back (``created`` False), never a second one. A new card is the key's
store's and the ledger names the key. Consent is required (the web shop showed the terms);
its version is recorded with the customer. A new customer with an email gets the welcome
email with their card's link, as one who joins on the shop's page does.
"""
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

from loyalty.contacts import normalize_phone
from loyalty.email_addresses import DeliverableEmail
from loyalty.extensions import db
from loyalty.models import Merchant
from loyalty.services.delivery import mail
from loyalty.services.engine import cards
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.errors import Conflict, InvalidInput

NAME_MAX = 120
EMAIL_MAX = 254
TERMS_VERSION_MAX = 16
BAD_EMAIL = _l("Enter a valid email address, like name@example.com.")


def _email_error(email):
    if len(email) > EMAIL_MAX:
        return BAD_EMAIL
    try:
        DeliverableEmail(BAD_EMAIL)(None, SimpleNamespace(data=email))
    except ValidationError as refusal:
        return refusal.args[0] if refusal.args else BAD_EMAIL
    return None


def field_errors(merchant, *, name, email, phone, language, languages, consent):
    """``[{"field", "message"}]`` for each invalid field (empty when all are fine)."""
    errors = {}
    if not (name or "").strip():
        errors["name"] = _l("Enter the customer's name.")
    elif len(name.strip()) > NAME_MAX:
        errors["name"] = _l("The name is too long (120 characters at most).")
    if email:
        problem = _email_error(email)
        if problem:
            errors["email"] = problem
    if phone and normalize_phone(phone, merchant.country) is None:
        errors["phone"] = _l("Enter a phone number like 621 123 456 or +352 621 123 456.")
    if not email and not phone:
        errors["email"] = _l("Enter an email address or a phone number.")
    if language is not None and language not in languages:
        errors["language"] = _l("Choose one of these languages: %(languages)s.",
                                languages=", ".join(languages))
    if not consent.get("given"):
        errors["consent.given"] = _l("The customer must accept the terms: send consent "
                                     "given true once they did.")
    version = (consent.get("terms_version") or "").strip()
    if not version or len(version) > TERMS_VERSION_MAX:
        errors["consent.terms_version"] = _l("Send the version of the terms the customer "
                                             "accepted (1 to 16 characters).")
    return [{"field": field, "message": str(message)} for field, message in errors.items()]


def enrol(caller, *, name, email=None, phone=None, language=None, consent, languages,
          idempotency_key=None):
    """``(card, created)``: a new card for a new customer, or the existing customer's card."""
    merchant = db.session.get(Merchant, caller.merchant_id)
    email, phone = (email or "").strip() or None, (phone or "").strip() or None
    errors = field_errors(merchant, name=name, email=email, phone=phone, language=language,
                          languages=languages, consent=consent)
    if errors:
        raise InvalidInput(_l("Some fields are not valid: see errors."), errors=errors)

    def welcome(card):
        if card.customer is not None and card.customer.email:
            mail.queue_email("welcome", merchant_id=merchant.id, card_id=card.id)

    try:
        card = cards.enroll_customer(
            merchant, name=name, email=email, phone=phone, locale=language, consent=True,
            context=ActionContext(store_id=caller.store_id, api_key_id=caller.key_id),
            idempotency_key=idempotency_key, terms_version=consent["terms_version"].strip(),
            then=welcome)
    except Conflict as known:
        card_id = known.details.get("card_id")
        if card_id is None:
            raise
        return cards.card_by_id(merchant.id, card_id), False
    return card, True  # a replayed enrolment (same Idempotency-Key) is 201 again, as first
