"""Finding a merchant's cards from what a till has: a card number (with or without dashes),
a QR token as scanned, an email address, a phone number in any usual form.

The counter's own lookup (``engine.cards.find_card``) answers a number or a token; an email
or a phone is matched exactly here, in their normalised forms (``loyalty.contacts``). Unlike
the counter's search, no part of a name is matched: a key could otherwise list a shop's
customers by trying "a", "b", ... Every lookup is within the key's merchant.
"""
import re

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from loyalty.contacts import normalize_email, normalize_phone
from loyalty.extensions import db
from loyalty.models import Customer, LoyaltyCard, Merchant
from loyalty.services.engine import cards
from loyalty.services.errors import CardNotFound

#: At most this many cards answer one lookup (an email or a phone is one customer's; a few
#: shops' data may still hold the same phone on two customers).
LOOKUP_LIMIT = 20
QUERY_MAX = 254


def card(merchant_id, number):
    """The merchant's card of ``number`` (dashes or spaces optional); CardNotFound else."""
    return cards.card_by_number(merchant_id, number)


def find_cards(merchant_id, query):
    """The merchant's cards answering ``query``: a list, empty when none does."""
    query = (query or "").strip()
    if not query or len(query) > QUERY_MAX:
        return []
    if cards.normalize_card_number(query) or "@" not in query:
        try:
            return [cards.find_card(merchant_id, query)]
        except CardNotFound:
            pass
    conditions = []
    if "@" in query:
        conditions.append(Customer.email == normalize_email(query))
    elif len(re.sub(r"\D", "", query)) >= 6:
        country = db.session.scalar(select(Merchant.country).where(Merchant.id == merchant_id))
        phone = normalize_phone(query, country)
        if phone:
            conditions.append(Customer.phone == phone)
    if not conditions:
        return []
    return db.session.scalars(
        select(LoyaltyCard).join(Customer, Customer.id == LoyaltyCard.customer_id)
        .where(LoyaltyCard.merchant_id == merchant_id, Customer.merchant_id == merchant_id,
               or_(*conditions))
        .options(joinedload(LoyaltyCard.customer))
        .order_by(LoyaltyCard.id).limit(LOOKUP_LIMIT)).all()
