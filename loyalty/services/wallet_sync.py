"""Keeping wallet passes in step with their card.

Any change to a card that has a pass (a ledger row of any kind, the customer's erasure) asks,
in its own transaction, for one outbox row of kind ``wallet``; while one is still waiting for
that card, no other is added, so a burst of changes gives one update (with RQ the row waits
``WALLET_PUSH_DELAY`` seconds before it runs, so the burst can finish). Its job pushes every
registered Apple device (a 410 removes the registration) and PATCHes the card's Google
object. The hourly sync (``sync_due``) sends again what a failed or lost job left behind.
"""
import logging
from datetime import datetime, timedelta

from flask_babel import force_locale, format_number

from sqlalchemy import delete, or_, select, update

from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import (
    AppleRegistration,
    LoyaltyCard,
    LoyaltyProgram,
    Merchant,
    OutboxMessage,
)
from loyalty import clock
from loyalty.i18n import gettext, ngettext, translations
from loyalty.services import apns, google_wallet, outbox, wallets
from loyalty.services.merchant_cache import merchant_rows
from loyalty.services.merchant_texts import text_for

log = logging.getLogger(__name__)
KIND = "wallet"
#: Google lets a pass notify its holder 3 times a day; further updates are silent.
NOTIFY_BUDGET, NOTIFY_WINDOW = 3, timedelta(hours=24)


def _message(card):
    """(header, text) telling the card's holder its balance, in their language."""
    program = merchant_rows(card.merchant_id).program
    locale = card.customer.preferred_locale or db.session.get(Merchant, card.merchant_id).default_locale
    with force_locale(locale):
        parts = []
        if program.has_points:
            parts.append(translations().ungettext(  # the count written the reader's way
                "%(num)s point", "%(num)s points", card.points_balance)
                % {"num": format_number(card.points_balance)})
        if program.has_stamps:
            parts.append(ngettext("%(num)s stamp", "%(num)s stamps", card.stamp_count))
        return (text_for(program, "card_name", locale),
                gettext("Balance: %(value)s", value=", ".join(parts)))


def _waiting(card_id):
    return db.session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.kind == KIND, OutboxMessage.delivered_at.is_(None),
        OutboxMessage.failed_at.is_(None),
        OutboxMessage.payload["card_id"].as_integer() == card_id).limit(1))


def card_changed(card):
    """Inside the change's transaction: ask for the card's passes to be updated (once)."""
    if not (card.apple_serial_number or card.google_object_id):
        return None  # no pass anywhere: nothing to do, and no statement on the counter's path
    if _waiting(card.id) is not None:
        return None
    return outbox.add(KIND, {"card_id": card.id}, merchant_id=card.merchant_id)


@outbox.handler(KIND)
def update_passes(row):
    card = db.session.get(LoyaltyCard, row.payload["card_id"], populate_existing=True)
    if card is None:
        return outbox.Effect(record=lambda row: None)
    tokens = db.session.execute(select(AppleRegistration.id, AppleRegistration.push_token)
                                .where(AppleRegistration.card_id == card.id)).all() \
        if wallets.apple_enabled() else []
    google = card.google_object_id is not None and wallets.google_enabled()
    body = google_wallet.prepared_object(card) if google else None
    erased = card.customer.erased_at is not None
    brought_to = card.pass_updated_at
    now = clock.now()
    recent = [moment for moment in (card.google_notified or [])
              if datetime.fromisoformat(moment) > now - NOTIFY_WINDOW]
    notify = google and not erased and len(recent) < NOTIFY_BUDGET
    message = _message(card) if google and not erased else None
    outcome = {}

    def send():
        outcome["gone"], outcome["refused"] = apns.push([tuple(t) for t in tokens])
        if body is not None:
            google_wallet.patch_object(body, message and (*message, notify))

    def record(row):
        gone = list(outcome.get("gone", []))
        if erased:  # an erased card's devices are forgotten once told
            gone = [registration_id for registration_id, _token in tokens]
        if gone:
            db.session.execute(delete(AppleRegistration).where(AppleRegistration.id.in_(gone)))
        if outcome.get("refused"):
            row.payload = {**row.payload, "refused": outcome["refused"][:3]}
        values = {"pass_synced_at": brought_to}
        if notify:
            values["google_notified"] = [*recent, now.isoformat()][-NOTIFY_BUDGET:]
        db.session.execute(update(LoyaltyCard).where(LoyaltyCard.id == card.id).values(**values)
                           .execution_options(synchronize_session=False))

    return outbox.Effect(record=record, send=send)


def cards_changed(card_ids):
    """``card_changed`` for a set-based change (points expiry): one statement to find the
    cards that have a pass, one to ask for their updates."""
    C = LoyaltyCard
    rows = db.session.execute(select(C.id, C.merchant_id).where(
        C.id.in_(card_ids),
        (C.apple_serial_number.is_not(None)) | (C.google_object_id.is_not(None)))).all()
    by_merchant = {}
    for card_id, merchant_id in rows:
        by_merchant.setdefault(merchant_id, []).append({"card_id": card_id})
    for merchant_id, payloads in by_merchant.items():
        outbox.add_many(KIND, payloads, merchant_id=merchant_id)


def sync_due(limit=1000):
    """Ask again for the updates a failed or lost job left behind: cards with a pass whose
    wallets are behind their last change and that have no update waiting. Returns how many."""
    C = LoyaltyCard
    waiting = select(OutboxMessage.id).where(
        OutboxMessage.kind == KIND, OutboxMessage.delivered_at.is_(None),
        OutboxMessage.failed_at.is_(None),
        OutboxMessage.payload["card_id"].as_integer() == C.id)
    ids = db.session.scalars(
        select(C.id).where(or_(C.apple_serial_number.is_not(None), C.google_object_id.is_not(None)),
                           C.pass_updated_at.is_not(None),
                           or_(C.pass_synced_at.is_(None), C.pass_synced_at < C.pass_updated_at),
                           ~waiting.exists())
        .order_by(C.pass_updated_at).limit(limit)
        .execution_options(include_deleted=True)).all()
    if ids:
        with write_transaction():
            cards_changed(ids)
    return len(ids)


PROGRAM_KIND = "wallet_program"
#: Program fields a pass shows: a change to one of them updates every pass of the program.
PASS_FIELDS = {"program_type", "card_name", "stamps_target", "stamp_reward_description",
               "primary_color", "secondary_color", "logo_url", "hero_image_url", "terms_text",
               "privacy_url", "translations"}


def program_changed(program):
    """Inside the change's transaction (program, branding or texts): every pass of the program
    shows it, so each card with a pass is marked changed and updated, and Google's class is
    updated once."""
    C = LoyaltyCard
    ids = db.session.scalars(update(C).where(
        C.program_id == program.id,
        (C.apple_serial_number.is_not(None)) | (C.google_object_id.is_not(None)))
        .values(pass_updated_at=clock.now()).returning(C.id)
        .execution_options(synchronize_session=False)).all()
    if ids:
        cards_changed(ids)
    if program.google_class_id and wallets.google_enabled():
        outbox.add(PROGRAM_KIND, {"program_id": program.id}, merchant_id=program.merchant_id)


@outbox.handler(PROGRAM_KIND)
def update_class(row):
    program = db.session.get(LoyaltyProgram, row.payload["program_id"], populate_existing=True)
    if program is None or not wallets.google_enabled():
        return outbox.Effect(record=lambda row: None)
    return outbox.Effect(record=lambda row: None,
                         send=lambda: google_wallet.upsert_class(program))
