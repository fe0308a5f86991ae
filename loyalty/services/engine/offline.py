"""What a counter tablet kept without connection, sent when the connection is back: each
action reaches the ledger exactly once, or comes back refused with its reason.

A tablet keeps stamps and purchases only (what gives value; what spends it needs the server),
each with the idempotency key it drew, the card's number or QR token as scanned, the staff
member picked and the tablet's time. ``sync_batch`` runs them in the tablet's order through
the counter's own actions (``stamping_action``, ``earning_action`` under ``run_card_action``),
one transaction each: a batch cut off half-way and sent again replays what was recorded (the
ledger's unique key) and records the rest. Each row is marked ``offline`` with the time it
happened at the counter (``counter_at``): the cooldown and the daily cap are judged then, in
the merchant's local day. Each action sent is one entry of the activity log (``offline.*``).

One PIN check per batch: when the program asks for a PIN, the person who types theirs sends
their own actions, a manager PIN sends everyone's; the others stay on the tablet.
"""
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from loyalty import clock
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import LoyaltyCard, LoyaltyTransaction
from loyalty.services import audit
from loyalty.services.engine import happy_hours
from loyalty.services.engine.actions import CardRef, run_card_action
from loyalty.services.engine.cards import normalize_card_number
from loyalty.services.engine.ledger import ActionContext, ActionResult, find_replay
from loyalty.services.engine.merchant_cache import merchant_rows
from loyalty.services.engine.points import earning_action
from loyalty.services.engine.staff_pins import staff_pins_at, verify_staff_pin
from loyalty.services.engine.stamps import stamping_action
from loyalty.services.errors import NO_CARD, CardNotFound, DomainError, PinRequired

KINDS = ("stamp", "earn")
#: The most actions one batch carries, whatever a merchant's cap (a request stays small).
MAX_BATCH = 200
#: A tablet's clock may run this far ahead of the server's.
CLOCK_SLACK = timedelta(minutes=2)
#: An action older than this is not recorded: staff enter it again if it still stands.
OLDEST = timedelta(days=1)


@dataclass(frozen=True)
class KeptAction:
    """One action as the tablet kept it (already checked for shape by the blueprint)."""

    key: str
    kind: str
    card: str
    at: object  # an aware datetime: when it happened at the counter
    quantity: int = 1
    amount_cents: int | None = None
    staff_pin_id: int | None = None


@dataclass
class Outcome:
    """What became of one action: ``result`` (an ActionResult) when it is in the ledger
    (``result.replayed``: it already was), else ``refusal``, the words that say why."""

    action: KeptAction
    result: object = None
    refusal: object = None

    @property
    def accepted(self):
        return self.result is not None


@dataclass
class Batch:
    outcomes: list
    #: Keys of actions this PIN may not send (another person's): they stay on the tablet.
    not_sent: list


def sync_batch(merchant, store_id, actions, *, user_id, pin=None, staff_pin_id=None,
               ip_address=None, user_agent=None, actor=None):
    """Record what a tablet of ``store_id`` kept offline. Raises the PIN's refusals
    (PinRequired, WrongPin, PinLocked) before anything is recorded; otherwise every action
    has its outcome, or is listed as not sent."""
    rows = merchant_rows(merchant.id)
    program = rows.program
    sender = None
    if pin or staff_pin_id is not None:
        sender = verify_staff_pin(merchant.id, store_id, pin, staff_pin_id=staff_pin_id)
    elif program is not None and program.require_staff_pin:
        raise PinRequired(_l("Tap your name and enter your PIN to send the actions waiting."))
    staff = {person.id: person for person in staff_pins_at(merchant.id, store_id)}
    mine, not_sent = _sendable(actions, sender)
    now = clock.now()
    recorded = _recorded(merchant.id, [action.key for action in mine])
    outcomes, points_kept = [], 0
    for position, action in enumerate(mine):
        previous = recorded.get(action.key)
        # Sent before and recorded: the first answer, whatever changed since (a day passed,
        # offline mode switched off). "Not added" would have staff enter it a second time.
        refusal = (None if previous is not None
                   else _refusal(program, action, position, points_kept, now,
                                 _factor_at(rows, merchant, store_id)))
        if previous is not None:
            outcome = Outcome(action, result=ActionResult(previous, previous.card, replayed=True))
        elif refusal is not None:
            outcome = Outcome(action, refusal=refusal)
        else:
            outcome = _record(merchant.id, store_id, action,
                              staff.get(action.staff_pin_id) or sender,
                              ActionContext(store_id=store_id, user_id=user_id,
                                            ip_address=ip_address, user_agent=user_agent,
                                            counter_at=action.at),
                              actor)
        if outcome.accepted:
            points_kept += outcome.result.transaction.points_delta
        outcomes.append(outcome)
    _log_refusals(merchant.id, [outcome for outcome in outcomes if not outcome.accepted], actor)
    return Batch(outcomes, not_sent)


def _recorded(merchant_id, keys):
    """The ledger rows already written for ``keys``, by key, with their cards (one query)."""
    if not keys:
        return {}
    rows = db.session.scalars(select(LoyaltyTransaction).options(
        joinedload(LoyaltyTransaction.card).joinedload(LoyaltyCard.customer)).where(
        LoyaltyTransaction.merchant_id == merchant_id,
        LoyaltyTransaction.idempotency_key.in_(keys)))
    return {row.idempotency_key: row for row in rows}


def _sendable(actions, sender):
    """(the actions this batch sends, the keys it leaves on the tablet): all of them without
    a PIN or with a manager's; a person's own with theirs."""
    if sender is None or sender.can_unlock:
        return list(actions), []
    mine = [action for action in actions if action.staff_pin_id == sender.id]
    return mine, [action.key for action in actions if action.staff_pin_id != sender.id]


def _factor_at(rows, merchant, store_id):
    """``at -> the points multiplier of a happy hour running then at the store`` (1 if none)."""
    def factor(at):
        happy = happy_hours.for_action(rows, "points", store_id, at, lambda: merchant.timezone)
        return happy.factor if happy is not None else 1
    return factor


def _refusal(program, action, position, points_kept, now, factor_at):
    """Why ``action`` is not recorded before its card is even read, or None. The tablet's
    points cap counts what a purchase credits, a happy hour's multiplier included."""
    if program is None or not program.is_active:
        return _l("The loyalty program is not active at the moment.")
    if not program.offline_enabled:
        return _l("This shop does not take actions kept without connection. Enter it again "
                  "at the counter.")
    if action.at > now + CLOCK_SLACK:
        return _l("The tablet's clock was ahead of the time: this action is dated in the future. "
                  "Check the tablet's date and time, then enter it again.")
    if action.at < now - OLDEST:
        return _l("This action is more than a day old and was not added. Enter it again if "
                  "the customer should still have it.")
    if position >= program.offline_max_actions:
        return lazy_ngettext(
            "The tablet kept more than %(num)d action without connection: this one was not "
            "added.",
            "The tablet kept more than %(num)d actions without connection: this one was not "
            "added.", program.offline_max_actions)
    earned = (program.points_for(action.amount_cents or 0) * factor_at(action.at)
              if action.kind == "earn" else 0)
    if earned and points_kept + earned > program.offline_max_points:
        return lazy_ngettext(
            "The tablet kept more than %(num)d point without connection: this purchase was "
            "not added.",
            "The tablet kept more than %(num)d points without connection: this purchase was "
            "not added.", program.offline_max_points)
    return None


def card_ref(merchant_id, text):
    """The card a scan or a typed number names: by its number, else by its QR token."""
    number = normalize_card_number(text)
    return CardRef(None, merchant_id, number=number, token=None if number else text.strip())


def _record(merchant_id, store_id, action, staff_pin, context, actor):
    """Run one action through the counter's own rules, or replay it if it is recorded."""
    try:
        previous = find_replay(merchant_id, action.key)
        if previous is not None:  # sent before, and recorded: the first answer again
            return Outcome(action, result=ActionResult(previous, previous.card, replayed=True))
        if action.kind == "stamp":
            work = stamping_action(action.quantity, context=context, idempotency_key=action.key)
        else:
            work = earning_action(action.amount_cents, context=context,
                                  idempotency_key=action.key)
        return Outcome(action, result=run_card_action(
            card_ref(merchant_id, action.card), context, action.key, work,
            staff_pin=staff_pin,
            then=lambda card: _log(actor, action, merchant_id, "accepted", card)))
    except CardNotFound:
        return Outcome(action, refusal=NO_CARD)
    except DomainError as refusal:
        return Outcome(action, refusal=refusal.message)


def _log(actor, action, merchant_id, result, card=None):
    """The action's entry in the activity log (``offline.stamp`` / ``offline.earn``), named
    by the card's number (never by a QR token: that opens the customer's card)."""
    changes = {"counter_at": (None, action.at.isoformat()), "result": (None, str(result))}
    if action.kind == "stamp":
        changes["stamps"] = (None, action.quantity)
    else:
        changes["amount_cents"] = (None, action.amount_cents)
    label = card.card_number if card is not None else normalize_card_number(action.card)
    audit.record(actor, f"offline.{action.kind}", card, merchant_id=merchant_id, label=label,
                 changes=changes, target_type="LoyaltyCard")


def _log_refusals(merchant_id, outcomes, actor):
    """The refused actions in the activity log, in one transaction."""
    if not outcomes or actor is None:
        return
    with write_transaction():
        for outcome in outcomes:
            _log(actor, outcome.action, merchant_id, outcome.refusal)
