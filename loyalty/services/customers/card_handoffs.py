"""The card onto the customer's phone at the counter: staff show a QR code that opens the
card's own page once, for a few minutes (with or without an email on the card).

The QR code holds a random token, not the card's page secret: a photo of the screen or a
look over the shoulder is worth nothing once the customer has scanned it, or minutes later.
Only the token's SHA-256 is stored. Showing a new code for a card retires the codes shown
for it before; opening one is a single conditional UPDATE, so two phones (or a double
scan) cannot both open it.
"""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update

from loyalty import clock
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.links import external_url
from loyalty.models import CardHandoff, LoyaltyCard
from loyalty.services import audit
from loyalty.services.errors import Conflict, NotFound

HANDOFF_MINUTES = 10
#: Tokens are URL-safe base64 of 32 random bytes: 43 characters.
TOKEN_LENGTH = 43
CLOSED_CARD = _l("This card is deactivated: its page cannot be opened on a phone. Reactivate "
                 "it first, or give the customer a new card.")
USED_OR_OLD = _l("This link has been used already or is too old. Ask at the counter for a new "
                 "QR code: it opens your card in one scan.")


class HandoffRefused(NotFound):
    """An unknown, used or expired link: one answer for all three."""

    status_code = 410


@dataclass(frozen=True)
class Handoff:
    url: str
    expires_at: datetime
    minutes: int


def _digest(token):
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def show(card, actor):
    """A new link to ``card``'s page for a phone at the counter; the card's earlier links stop
    working. Audited: who showed which card's page, and when."""
    if not card.is_active:
        raise Conflict(CLOSED_CARD)
    token = secrets.token_urlsafe(32)
    now = clock.now()
    expires = now + timedelta(minutes=HANDOFF_MINUTES)
    with write_transaction():
        # this card's earlier codes, and every code long past, go
        db.session.execute(delete(CardHandoff).where(
            (CardHandoff.card_id == card.id) | (CardHandoff.expires_at < now - timedelta(days=1))))
        db.session.add(CardHandoff(card_id=card.id, token_hash=_digest(token), created_at=now,
                                   expires_at=expires))
        audit.record(actor, "card.phone_link", card, merchant_id=card.merchant_id,
                     label=card.card_number)
    return Handoff(url=external_url("storefront.handoff", token=token), expires_at=expires,
                   minutes=HANDOFF_MINUTES)


def open_once(token):
    """The card a link opens, used up by this call; ``HandoffRefused`` for an unknown, used or
    expired link."""
    if not isinstance(token, str) or len(token) != TOKEN_LENGTH or not token.isascii():
        raise HandoffRefused(USED_OR_OLD)
    digest = _digest(token)
    now = clock.now()
    with write_transaction():
        taken = db.session.execute(
            update(CardHandoff)
            .where(CardHandoff.token_hash == digest, CardHandoff.used_at.is_(None),
                   CardHandoff.expires_at > now)
            .values(used_at=now).execution_options(synchronize_session=False)).rowcount
        card = db.session.scalar(
            select(LoyaltyCard).join(CardHandoff, CardHandoff.card_id == LoyaltyCard.id)
            .where(CardHandoff.token_hash == digest)) if taken == 1 else None
    if card is None or not card.is_active:
        raise HandoffRefused(USED_OR_OLD)
    return card
