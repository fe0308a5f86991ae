"""The counter back online: the connection probe and the batch a tablet kept without one.

Both answer JSON to the offline script (``static/js/offline.js``). The probe hands a fresh
CSRF token (the page the tablet kept may be hours old); the batch is checked for shape here
(a malformed one is refused whole, 4xx with a message, nothing recorded) and recorded by
``services/engine/offline.py``.
"""
import re
from datetime import UTC, datetime

from flask import jsonify, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf

from loyalty.blueprints.terminal.messages import result_message
from loyalty.blueprints.terminal.views import (
    PIN_ERRORS,
    STAFF_ROLES,
    _allowed_stores,
    _device_store,
    _program,
    bp,
)
from loyalty.extensions import csrf
from loyalty.models import MAX_ID
from loyalty.request_guard import accepts_json, json_refusal
from loyalty.services.audit import Actor
from loyalty.services.engine import offline
from loyalty.services.engine.cards import normalize_card_number
from loyalty.services.engine.points import MAX_PURCHASE_CENTS
from loyalty.services.engine.stamps import MAX_STAMPS_AT_ONCE
from loyalty.services.errors import PIN_REFUSALS, DomainError
from loyalty.tenancy import current_merchant, tenancy
from loyalty.throttle import TooManyAttempts, attempt, pin_budgets

KEY = re.compile(r"[A-Za-z0-9_-]{16,64}\Z")
PIN = re.compile(r"[0-9]{4,8}\Z")


class Malformed(ValueError):
    """The batch is not what the offline script sends; the message says what is wrong."""


def _refused_caller():
    """A 401/403/409 answer when the caller may not use the counter here, else None."""
    if not current_user.is_authenticated:
        return json_refusal(401, _("You are signed out. Sign in again to send the actions "
                                   "waiting on this tablet: they stay here meanwhile."))
    if tenancy.role not in STAFF_ROLES:
        return json_refusal(403, _("Your account cannot use the counter of this shop."))
    if _device_store() is None and len(_allowed_stores()) != 1:
        return json_refusal(409, _("Choose this tablet's store first, then send the actions "
                                   "waiting."))
    return None


def _store():
    return _device_store() or _allowed_stores()[0]


@bp.route("/offline/ping")
def offline_ping():
    """Is the server there, who is signed in, and a fresh CSRF token for the batch."""
    refusal = _refused_caller()
    if refusal is not None:
        return refusal
    response = jsonify(csrf_token=generate_csrf(), user_id=current_user.id,
                       store_id=_store().id)
    response.headers["Cache-Control"] = "no-store"
    return response


def _integer(item, name, low, high, *, required=True):
    value = item.get(name)
    if value is None and not required:
        return None
    if type(value) is not int or not low <= value <= high:  # noqa: E721 - True is no count
        raise Malformed(_("An action's %(field)s is not a whole number between %(low)s and "
                          "%(high)s.", field=name, low=low, high=high))
    return value


def _moment(text):
    try:
        moment = datetime.fromisoformat(text) if isinstance(text, str) else None
        moment = moment.astimezone(UTC) if moment and moment.tzinfo else None
    except (ValueError, OverflowError):  # OverflowError: past year 9999 or before 1 in UTC
        moment = None
    if moment is None:
        raise Malformed(_("An action's time is not a date and time with its time zone."))
    return moment


def _kept_action(item):
    if not isinstance(item, dict):
        raise Malformed(_("Each action is an object."))
    key, kind, card = item.get("key"), item.get("kind"), item.get("card")
    if not isinstance(key, str) or not KEY.match(key):
        raise Malformed(_("An action has no valid key."))
    if kind not in offline.KINDS:
        raise Malformed(_("An action is neither a stamp nor a purchase."))
    if not isinstance(card, str) or not 1 <= len(card.strip()) <= 64:
        raise Malformed(_("An action names no card."))
    stamp = kind == "stamp"
    return offline.KeptAction(
        key=key, kind=kind, card=card.strip(), at=_moment(item.get("at")),
        quantity=_integer(item, "quantity", 1, MAX_STAMPS_AT_ONCE, required=False) or 1,
        amount_cents=None if stamp else _integer(item, "amount_cents", 1, MAX_PURCHASE_CENTS),
        staff_pin_id=_integer(item, "staff_pin_id", 1, MAX_ID, required=False))


def _batch(body):
    """(actions, staff_pin_id, pin) from the body, or Malformed."""
    if not isinstance(body, dict) or not isinstance(body.get("actions"), list):
        raise Malformed(_("Send the actions as a list under \"actions\"."))
    items = body["actions"]
    if len(items) > offline.MAX_BATCH:
        raise Malformed(ngettext("Send at most %(num)d action at once.",
                                 "Send at most %(num)d actions at once.", offline.MAX_BATCH))
    actions = [_kept_action(item) for item in items]
    if len({action.key for action in actions}) != len(actions):
        raise Malformed(_("Two actions share a key."))
    pin = body.get("pin")
    if pin is not None and (not isinstance(pin, str) or not PIN.match(pin)):
        raise Malformed(_("A PIN is 4 to 8 digits."))
    return actions, _integer(body, "staff_pin_id", 1, MAX_ID, required=False), pin


def _answer(outcome, program):
    action = outcome.action
    if not outcome.accepted:
        return {"key": action.key, "status": "refused", "message": str(outcome.refusal),
                "card_number": normalize_card_number(action.card)}
    transaction, card = outcome.result.transaction, outcome.result.card
    customer = card.customer
    return {"key": action.key, "status": "accepted",
            "message": result_message(transaction, program),
            "card_number": card.card_number,
            "customer": customer.name if customer is not None else None,
            "balance": _balance(transaction, program)}


def _balance(transaction, program):
    parts = []
    if program.has_stamps:
        parts.append(ngettext("%(num)d stamp of %(target)d", "%(num)d stamps of %(target)d",
                              transaction.stamps_balance_after, target=program.stamps_target))
    if program.has_points:
        parts.append(ngettext("%(num)d point", "%(num)d points",
                              transaction.points_balance_after))
    return " · ".join(parts)


def _pin_refusal(status, message):
    """A refusal of the PIN typed: nothing was sent, the script asks for the PIN again."""
    response = jsonify(error=str(message), pin=True)
    response.status_code = status
    return response


@bp.route("/offline/sync", methods=["POST"])
@csrf.exempt  # checked below, to answer in JSON
@accepts_json
def offline_sync():
    """Record a batch the tablet kept; each action comes back accepted or refused."""
    refusal = _refused_caller()
    if refusal is not None:
        return refusal
    try:
        validate_csrf(request.headers.get("X-CSRFToken"))
    except (CSRFError, ValueError):
        return json_refusal(400, _("This tablet's page is out of date. It fetches a new one "
                                   "and sends the actions again."))
    try:
        actions, staff_pin_id, pin = _batch(request.get_json())
    except Malformed as wrong:
        return json_refusal(422, str(wrong))
    store = _store()
    actor = Actor(user_id=current_user.id, ip_address=request.remote_addr,
                  merchant_id=current_merchant.id)
    budgets = pin_budgets(request.remote_addr) if pin else []
    try:
        with attempt(budgets, failures=PIN_REFUSALS) as tried:
            batch = offline.sync_batch(
                current_merchant, store.id, actions, user_id=current_user.id, pin=pin,
                staff_pin_id=staff_pin_id, ip_address=request.remote_addr,
                user_agent=request.user_agent.string, actor=actor)
            tried.succeeded()
    except TooManyAttempts as pause:
        return _pin_refusal(429, ngettext(
            "Too many wrong PINs on this terminal. Try again in %(num)d minute.",
            "Too many wrong PINs on this terminal. Try again in %(num)d minutes.", pause.minutes))
    except PIN_ERRORS as wrong:
        return _pin_refusal(wrong.status_code, wrong.message)
    except DomainError as wrong:  # the staff member picked is not set up at this store
        return _pin_refusal(422, wrong.message)
    program = _program()
    return jsonify(results=[_answer(outcome, program) for outcome in batch.outcomes],
                   not_sent=batch.not_sent)
