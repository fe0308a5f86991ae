"""Events: a change other areas react to, recorded as an outbox row in the change's own
transaction. The area that makes the change calls a function here; the area that reacts
registers the outbox handler for the event's kind (``@outbox.handler(events.CARD_CHANGED)``),
so the changing area never imports the reacting one.

Today's reactor is the wallets area (``services/wallets/sync.py``): a card change its passes
must follow (any ledger row, points expiry, the customer's erasure) and a program change they
must follow (program fields a pass shows, branding, texts). Its handlers are registered when
``loyalty/__init__.py`` imports it, so web and worker processes (and ``rq worker``, which
imports ``loyalty``) all have them; ``outbox.add`` refuses a kind nobody handles.

A card change is recorded only for a card that has a pass, and once while an earlier row for
the card still waits (a burst of changes gives one update); the counter's path makes no
statement for a card without a pass. The kinds keep their stored names (``wallet``,
``wallet_program``): rows written before this module existed are handled the same.
"""
from sqlalchemy import or_, select

from loyalty.extensions import db
from loyalty.models import LoyaltyCard, OutboxMessage
from loyalty.services import outbox

#: A card's balance, state or customer changed (what its wallet passes show).
CARD_CHANGED = "wallet"
#: A program's look or texts changed (every pass of the program).
PROGRAM_CHANGED = "wallet_program"
BATCH = 1000
#: Program fields a pass shows: a change to one of them is a ``PROGRAM_CHANGED``.
PASS_FIELDS = {"program_type", "card_name", "stamps_target", "stamp_reward_description",
               "primary_color", "secondary_color", "logo_url", "hero_image_url", "terms_text",
               "privacy_url", "translations"}


def has_pass(card):
    return bool(card.apple_serial_number or card.google_object_id)


def _waiting(card_id):
    return db.session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.kind == CARD_CHANGED, OutboxMessage.delivered_at.is_(None),
        OutboxMessage.failed_at.is_(None),
        OutboxMessage.payload["card_id"].as_integer() == card_id).limit(1))


def card_changed(card):
    """Inside the change's transaction: ask for the card's passes to be updated (once)."""
    if not has_pass(card):
        return None  # no pass anywhere: nothing to do, and no statement on the counter's path
    if _waiting(card.id) is not None:
        return None
    return outbox.add(CARD_CHANGED, {"card_id": card.id}, merchant_id=card.merchant_id)


def cards_changed(card_ids):
    """``card_changed`` for a set-based change: the cards that have a pass and no update
    waiting get one, in batches (two statements per batch)."""
    card_ids = list(card_ids)
    C = LoyaltyCard
    for start in range(0, len(card_ids), BATCH):
        chunk = card_ids[start:start + BATCH]
        waiting = select(OutboxMessage.id).where(
            OutboxMessage.kind == CARD_CHANGED, OutboxMessage.delivered_at.is_(None),
            OutboxMessage.failed_at.is_(None),
            OutboxMessage.payload["card_id"].as_integer() == C.id)
        rows = db.session.execute(select(C.id, C.merchant_id).where(
            C.id.in_(chunk), or_(C.apple_serial_number.is_not(None),
                                 C.google_object_id.is_not(None)),
            ~waiting.exists()).execution_options(include_deleted=True)).all()
        by_merchant = {}
        for card_id, merchant_id in rows:
            by_merchant.setdefault(merchant_id, []).append({"card_id": card_id})
        for merchant_id, payloads in by_merchant.items():
            outbox.add_many(CARD_CHANGED, payloads, merchant_id=merchant_id)


def program_changed(program):
    """Inside the change's transaction (program, branding or texts): one job will update
    every pass of the program."""
    outbox.add(PROGRAM_CHANGED, {"program_id": program.id}, merchant_id=program.merchant_id)


# --- what a card went through, for areas that tell the outside world (webhooks) ----------
#
# Listeners run inside the change's transaction and may write rows of their own beside it;
# they are registered by the reacting area (``integrations.webhook_events``), so the engine
# calls these functions without knowing who listens. A listener must cost no query when it
# has nothing to do (the counter's path calls it on every action).

#: what -> listeners: "transaction" (card, values of the ledger row written, its id
#: included), "expired" (program id, card ids, when: points expiry, set-based), "erased" (card).
#: "pin_refused" (merchant id, store id, staff PIN id, when: a wrong staff PIN was counted).
LISTENERS = {"transaction": [], "transactions": [], "expired": [], "erased": [],
             "pin_refused": []}


def listen(what):
    """Register a listener of ``what`` (a key of ``LISTENERS``)."""
    def register(function):
        LISTENERS[what].append(function)
        return function
    return register


def transaction_recorded(card, values):
    """Inside the change's transaction: a ledger row was written for ``card``."""
    for listener in LISTENERS["transaction"]:
        listener(card, values)


def transactions_recorded(merchant_id, rows):
    """Inside a set-based change's transaction: ledger rows were written for a batch of the
    merchant's cards; ``rows`` are ``(card, values)`` pairs (the listeners work per batch)."""
    for listener in LISTENERS["transactions"]:
        listener(merchant_id, rows)


def points_expired(program_id, card_ids, at):
    """Inside the expiry batch's transaction: these cards' points expired at ``at``."""
    for listener in LISTENERS["expired"]:
        listener(program_id, card_ids, at)


def card_erased(card):
    """Inside the erasure's transaction: the card's customer erased their data."""
    for listener in LISTENERS["erased"]:
        listener(card)


def pin_refused(merchant_id, store_id, staff_pin_id, at):
    """Inside the transaction that counted it: a wrong staff PIN was typed."""
    for listener in LISTENERS["pin_refused"]:
        listener(merchant_id, store_id, staff_pin_id, at)
