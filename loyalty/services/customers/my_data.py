"""What a customer may ask of their own data, from their card's page: everything the platform
holds about them (``export``), and its erasure (``erase``).

Erasure anonymises the customer (name, email and phone wiped, the time kept), forfeits what
the card still holds and closes it with ledger rows of their own (so balances still add up to
the ledger), gives the card new secrets (its old link and QR code open nothing), removes the
address and content of the emails kept for them, blanks what staff typed about the card (the
notes of its ledger rows: reasons for a closing, an adjustment or a void; the reasons and other
words of the audit entries about the card or customer), and is recorded in the merchant's
audit trail. Ledger rows stay with their amounts and times: the triggers that keep the ledger
and the trail append-only let an erasure blank those words and refuse every other change.
"""
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from loyalty import clock
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import (
    Customer,
    LoyaltyTransaction,
    Merchant,
    OutboxMessage,
    SentEmail,
    Store,
    TransactionType,
)
from loyalty.models.cards import new_page_secret
from loyalty.services import audit, events
from loyalty.services.engine.ledger import ActionContext, append, lock_card
from loyalty.services.errors import NotFound


def _when(moment):
    return moment.isoformat() if moment else None


def export(card):
    """Everything held about ``card``'s customer, as a JSON-ready dict."""
    customer = card.customer
    merchant = db.session.get(Merchant, card.merchant_id)
    T = LoyaltyTransaction
    history = db.session.execute(
        select(T.transaction_at, T.transaction_type, T.stamps_delta, T.points_delta,
               T.stamps_balance_after, T.points_balance_after, T.purchase_amount_cents,
               T.order_reference, T.reward_description, T.notes, Store.name.label("store"))
        .outerjoin(Store, Store.id == T.store_id)
        .where(T.card_id == card.id).order_by(T.transaction_at, T.id)).all()
    emails = db.session.execute(
        select(SentEmail.created_at, SentEmail.subject, SentEmail.to_address)
        .where(SentEmail.merchant_id == card.merchant_id,
               SentEmail.to_address == customer.email)
        .order_by(SentEmail.id)).all() if customer.email else []
    return {
        "exported_at": _when(clock.now()),
        "shop": merchant.name,
        "customer": {
            "name": customer.name, "email": customer.email, "phone": customer.phone,
            "language": customer.preferred_locale, "joined_at": _when(customer.created_at),
            "consent_at": _when(customer.consent_at), "terms_version": customer.terms_version,
            "offers_by_email": {"consent": customer.marketing_consent,
                                "consent_at": _when(customer.marketing_consent_at),
                                "unsubscribed_at": _when(customer.marketing_unsubscribed_at)},
            "birthday": ({"day": customer.birth_day, "month": customer.birth_month}
                         if customer.birth_day is not None else None),
        },
        "card": {
            "card_number": card.card_number, "active": card.is_active,
            "created_at": _when(card.created_at), "last_activity_at": _when(card.last_activity_at),
            "stamps": card.stamp_count, "points": card.points_balance,
            "stamps_earned_total": card.stamps_earned_total,
            "points_earned_total": card.points_earned_total,
            "points_redeemed_total": card.points_redeemed_total,
            "points_expired_total": card.points_expired_total,
            "rewards_redeemed_total": card.rewards_redeemed_total,
            "wallets": {"apple": card.apple_serial_number is not None,
                        "google": card.google_object_id is not None},
        },
        "history": [{
            "at": _when(row.transaction_at), "type": str(row.transaction_type),
            "stamps": row.stamps_delta, "points": row.points_delta,
            "stamps_after": row.stamps_balance_after, "points_after": row.points_balance_after,
            "purchase_amount_cents": row.purchase_amount_cents,
            "order_reference": row.order_reference, "reward": row.reward_description,
            "note": row.notes, "store": row.store,
        } for row in history],
        "emails": [{"sent_at": _when(row.created_at), "subject": row.subject,
                    "to": row.to_address} for row in emails],
    }


def erase(card):
    """Anonymise ``card``'s customer, blank what staff typed about them and close the card, in
    one transaction (see the module's docstring)."""
    with write_transaction():
        card = lock_card(card.id, card.merchant_id)
        customer = db.session.get(Customer, card.customer_id, populate_existing=True)
        if customer.erased_at is not None:
            raise NotFound(_l("This card has already been deleted."))
        context = ActionContext()
        if card.stamp_count:
            append(card, TransactionType.STAMP_ADJUSTED, context, stamps=-card.stamp_count)
        if card.points_balance:
            append(card, TransactionType.POINTS_ADJUSTED, context, points=-card.points_balance)
        if card.is_active:
            card.is_active = False
            append(card, TransactionType.CARD_DEACTIVATED, context)
        card.pass_updated_at = clock.now()  # its passes are voided, its devices forgotten
        events.card_changed(card)
        events.card_erased(card)
        card.page_secret = new_page_secret()
        card.qr_token = secrets.token_urlsafe(24)
        if customer.email:
            db.session.execute(
                update(SentEmail)
                .where(SentEmail.merchant_id == card.merchant_id,
                       SentEmail.to_address == customer.email)
                .values(to_address="", body_text=None, body_html=None))
            # "Send me my link" requests for the address, waiting or failed: they forget it
            # (a waiting one then finds no card and sends nothing).
            for row in db.session.scalars(select(OutboxMessage).where(
                    OutboxMessage.merchant_id == card.merchant_id,
                    OutboxMessage.payload[("lookup", "email")].as_string() == customer.email)):
                row.payload = {key: value for key, value in row.payload.items()
                               if key != "lookup"}
        db.session.execute(
            update(LoyaltyTransaction.__table__)
            .where(LoyaltyTransaction.card_id == card.id, LoyaltyTransaction.notes.is_not(None))
            .values(notes=None))
        audit.blank_words_about([("LoyaltyCard", card.id), ("Customer", customer.id)],
                                keep_label=card.card_number)
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.merchant_id == card.merchant_id,
                   OutboxMessage.payload["card_id"].as_integer() == card.id)
            .values(last_error=None))
        now = clock.now()
        customer.name, customer.email, customer.phone = "", None, None
        customer.birth_day = customer.birth_month = None
        customer.erased_at = now
        # The customer's own address is theirs too: not recorded.
        audit.record(audit.Actor(user_id=None, merchant_id=card.merchant_id),
                     "customer.erase", customer, merchant_id=card.merchant_id,
                     label=card.card_number, changes={"erased_at": (None, now)})
    return card
