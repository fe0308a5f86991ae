"""Keeping wallet passes in step with their card.

Any change to a card that has a pass (a ledger row of any kind, the customer's erasure) asks,
in its own transaction, for one outbox row of kind ``wallet`` (``services.events``, which the
changing areas call: they never import this module, whose handlers react); while one is still waiting for
that card, no other is added, so a burst of changes gives one update (with RQ the row waits
``WALLET_PUSH_DELAY_SECONDS`` before it runs, so the burst can finish; a change that comes
while the job runs gets a row of its own). The job pushes every registered Apple device (a
410 or a bad token forgets the device) and PATCHes the card's Google object, with a balance
message that notifies at most 3 times a day. A program, branding or texts change runs one
``wallet_program`` job that marks every pass of the program changed, in batches, and
updates Google's class. The hourly sync (``sync_due``) asks again for what a failed or lost
job left behind, and forgets the devices of cards erased a week ago (they had time to fetch
the voided pass); beside it, ``refresh_google_reviews`` asks Google how the review of the
classes still under review went.
"""
import logging
from datetime import datetime, timedelta

from flask_babel import force_locale, format_number
from sqlalchemy import delete, or_, select, update

from loyalty import clock
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.i18n import gettext, ngettext, translations
from loyalty.models import (
    AppleRegistration,
    Customer,
    LoyaltyCard,
    LoyaltyProgram,
    Merchant,
    OutboxMessage,
)
from loyalty.services import events, outbox
from loyalty.services.engine.merchant_cache import merchant_rows
from loyalty.services.events import (  # noqa: F401 - where callers and tests found them
    PASS_FIELDS,
    card_changed,
    cards_changed,
    has_pass,
    program_changed,
)
from loyalty.services.merchant.texts import text_for
from loyalty.services.wallets import apns
from loyalty.services.wallets import google as google_wallet
from loyalty.services.wallets import status as wallets

log = logging.getLogger(__name__)
KIND, PROGRAM_KIND = events.CARD_CHANGED, events.PROGRAM_CHANGED
#: Google lets a pass notify its holder 3 times a day; further updates are silent.
NOTIFY_BUDGET, NOTIFY_WINDOW = 3, timedelta(hours=24)
#: An erased card's devices are forgotten after this (time to fetch the voided pass).
ERASED_DEVICES_KEPT = timedelta(days=7)
BATCH = 1000


def _message(card, program, locale):
    """The balance the card's holder reads on their Google pass, in their language."""
    with force_locale(locale):
        parts = []
        if program.has_points:
            parts.append(translations().ungettext(  # the count written the reader's way
                "%(num)s point", "%(num)s points", card.points_balance)
                % {"num": format_number(card.points_balance)})
        if program.has_stamps:
            parts.append(ngettext("%(num)s stamp", "%(num)s stamps", card.stamp_count))
        return gettext("Balance: %(value)s", value=", ".join(parts))


def _google_update(card, now):
    """(object body, message or None, notify, the card's new message log): a message only
    when the balance it tells changed; it notifies while the day's budget lasts."""
    program = merchant_rows(card.merchant_id).program
    locale = card.customer.preferred_locale or \
        db.session.get(Merchant, card.merchant_id).default_locale
    body = google_wallet.object_body(card, program, locale)
    if card.customer.erased_at is not None:
        return body, None, False, card.google_notified
    log_ = [entry for entry in (card.google_notified or []) if isinstance(entry, dict)]
    text = _message(card, program, locale)
    if log_ and log_[-1].get("text") == text:
        return body, None, False, log_
    notified = [entry for entry in log_ if entry.get("notify")
                and datetime.fromisoformat(entry["at"]) > now - NOTIFY_WINDOW]
    notify = len(notified) < NOTIFY_BUDGET
    entry = {"at": now.isoformat(), "text": text, "notify": notify}
    header = text_for(program, "card_name", locale)
    return body, (header, text, notify), notify, [*log_, entry][-NOTIFY_BUDGET - 2:]


@outbox.handler(KIND)
def update_passes(row):
    card = db.session.get(LoyaltyCard, row.payload["card_id"], populate_existing=True)
    if card is None:
        return outbox.Effect(record=lambda row: None)
    tokens = [tuple(token) for token in db.session.execute(
        select(AppleRegistration.id, AppleRegistration.push_token)
        .where(AppleRegistration.card_id == card.id)).all()] if wallets.apple_enabled() else []
    google = card.google_object_id is not None and wallets.google_enabled()
    now = clock.now()
    body, message, _notify, message_log = _google_update(card, now) if google else \
        (None, None, False, None)
    card_id, brought_to = card.id, card.pass_updated_at
    outcome = {"refused": []}

    def send():
        result = apns.push(tokens)
        if result.gone:  # forgotten now, even if the rest is tried again
            with write_transaction():
                db.session.execute(delete(AppleRegistration)
                                   .where(AppleRegistration.id.in_(result.gone)))
        outcome["refused"] = result.refused
        failures = list(result.unavailable)
        if body is not None:
            try:
                google_wallet.patch_object(body, message)
            except google_wallet.WalletApiError as error:
                failures.append(f"Google: {error}")
        if failures:
            raise apns.PushUnavailable("; ".join(failures[:3]))

    def record(row):
        if outcome["refused"]:
            row.payload = {**row.payload, "refused": outcome["refused"][:3]}
        values = {"pass_synced_at": brought_to}
        if message_log is not None:
            values["google_notified"] = message_log
        db.session.execute(update(LoyaltyCard.__table__).where(LoyaltyCard.id == card_id)
                           .values(**values))
        # A change that came while this ran was coalesced into this row: give it its own.
        latest = db.session.scalar(select(LoyaltyCard.pass_updated_at)
                                   .where(LoyaltyCard.id == card_id))
        if latest is not None and brought_to is not None and latest > brought_to:
            outbox.add(KIND, {"card_id": card_id}, merchant_id=row.merchant_id)

    return outbox.Effect(record=record, send=send)


@outbox.handler(PROGRAM_KIND)
def update_program_passes(row):
    """Mark the program's passes changed, a batch per transaction, and ask for their
    updates; then update Google's class."""
    program_id = row.payload["program_id"]
    program = db.session.get(LoyaltyProgram, program_id, populate_existing=True)
    if program is None:
        return outbox.Effect(record=lambda row: None)
    has_class = program.google_class_id is not None and wallets.google_enabled()

    def send():
        C, last_id = LoyaltyCard, 0
        while True:
            with write_transaction():
                ids = db.session.scalars(
                    select(C.id).where(C.program_id == program_id, C.id > last_id,
                                       or_(C.apple_serial_number.is_not(None),
                                           C.google_object_id.is_not(None)))
                    .order_by(C.id).limit(BATCH)).all()
                if not ids:
                    break
                db.session.execute(update(C.__table__).where(C.id.in_(ids))
                                   .values(pass_updated_at=clock.now()))
                cards_changed(ids)
                last_id = ids[-1]
        if has_class:
            google_wallet.upsert_class(db.session.get(LoyaltyProgram, program_id))

    return outbox.Effect(record=lambda row: None, send=send)


def refresh_google_reviews():
    """Google's review of the programs' classes, asked again for those still under review
    (hourly, with ``sync_due``); nothing when Google Wallet is not configured."""
    if not wallets.google_enabled():
        return {}
    return google_wallet.refresh_reviews()


def sync_due(limit=1000):
    """Ask again for the updates a failed or lost job left behind (cards with a pass whose
    wallets are behind their last change, no update waiting), and forget the devices of
    cards erased over a week ago. Returns how many cards were asked for."""
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
    erased = select(C.id).join(Customer, Customer.id == C.customer_id).where(
        Customer.erased_at < clock.now() - ERASED_DEVICES_KEPT)
    with write_transaction():
        if ids:
            cards_changed(ids)
        db.session.execute(delete(AppleRegistration).where(AppleRegistration.card_id.in_(erased)))
    return len(ids)
