"""Unlocking a locked staff PIN at the counter, on a manager's word: their manager PIN, or
their email and password. Both are counted before they are checked, like any PIN or sign-in."""
from flask import abort, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from loyalty.blueprints.terminal import forms
from loyalty.blueprints.terminal.sheets import sheet_or_page
from loyalty.blueprints.terminal.views import (
    PIN_ERRORS,
    SHEETS,
    STAFF_ROLES,
    _card_or_404,
    _manages,
    _render_sheet,
    _store_or_redirect,
    bp,
)
from loyalty.services.audit import Actor
from loyalty.services.engine import staff_pins
from loyalty.services.errors import PIN_REFUSALS, DomainError
from loyalty.services.platform import accounts
from loyalty.tenancy import current_merchant, roles_required
from loyalty.throttle import TooManyAttempts, attempt, pin_budgets, sign_in_budgets


def _render_unlock(store, card, kind, locked, form, *, error=None, status=200):
    managers = staff_pins.unlocking_pins_at(current_merchant.id, store.id)
    if form.way.data not in forms.UNLOCK_WAYS:
        # One way shows at a time: a manager's own password when it is offered (or when no
        # manager PIN exists here), else the manager PIN pad.
        form.way.data = "pin" if managers and not form.email.data else "password"
    # The action sheet to come back to, with what was typed on it.
    back = {name: request.args.get(name)
            for name in ("reward_id", "transaction_id", *forms.CARRIED_THROUGH_UNLOCK)}
    values = dict(store=store, card=card, kind=kind, locked=locked, form=form, error=error,
                  managers=managers, back={"kind": kind, **back})
    return sheet_or_page("terminal/_unlock.html", "terminal/unlock_page.html", status, **values)


def _locked_or_404(store, staff_pin_id):
    locked = next((person for person in staff_pins.staff_pins_at(current_merchant.id, store.id)
                   if person.id == staff_pin_id), None)
    if locked is None:
        abort(404)
    return locked


def _managers_word(form, store):
    """The verified manager PIN or the authenticated user, or a refusal (DomainError, or
    ``None`` for a wrong email or password)."""
    if form.pin.data:
        with attempt(pin_budgets(request.remote_addr), failures=PIN_REFUSALS) as tried:
            manager = staff_pins.verify_staff_pin(current_merchant.id, store.id, form.pin.data,
                                                  staff_pin_id=form.staff_pin_id.data)
            tried.succeeded()
        return {"manager": manager}
    email = accounts.normalize_email(form.email.data)
    with attempt(sign_in_budgets(email, request.remote_addr)) as tried:
        user = accounts.authenticate(email, form.password.data, signing_in=False)
        # only a password that may unlock here gives its attempt back
        if user is not None and staff_pins.can_manage_store(user, current_merchant.id, store.id):
            tried.succeeded()
    return {"user": user} if user is not None else None


@bp.route("/cards/<int:card_id>/unlock/<int:staff_pin_id>", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def unlock(card_id, staff_pin_id):
    """The unlock sheet, opened from an action sheet whose PIN is locked; once unlocked, that
    action's sheet comes back with the unlocked person picked."""
    store, redirect_response = _store_or_redirect()
    if redirect_response:
        return redirect_response
    kind = request.args.get("kind", "stamp")
    if kind not in SHEETS:
        abort(404)
    card = _card_or_404(card_id)
    locked = _locked_or_404(store, staff_pin_id)
    if request.method == "GET":
        form = forms.UnlockForm(formdata=None)
        if _manages(store.id):  # a manager of this store confirms with their own password
            form.email.data = current_user.email
        return _render_unlock(store, card, kind, locked, form)
    form = forms.UnlockForm()
    if not form.validate_on_submit():
        return _render_unlock(store, card, kind, locked, form, status=422)
    try:
        word = _managers_word(form, store)
        if word is None:
            return _render_unlock(store, card, kind, locked, form, status=401,
                                  error=_("Wrong email or password. Check both and try again."))
        staff_pins.unlock_at_terminal(
            current_merchant.id, store.id, locked.id, **word,
            actor=Actor(user_id=current_user.id, ip_address=request.remote_addr,
                        merchant_id=current_merchant.id))
    except TooManyAttempts as pause:
        message = ngettext("Too many attempts on this terminal. Try again in %(num)d minute.",
                           "Too many attempts on this terminal. Try again in %(num)d minutes.",
                           pause.minutes)
        return _render_unlock(store, card, kind, locked, form, error=message, status=429)
    except (DomainError, *PIN_ERRORS) as refusal:
        return _render_unlock(store, card, kind, locked, form, error=str(refusal.message),
                              status=refusal.status_code)
    typed = {name: request.args[name] for name in forms.CARRIED_THROUGH_UNLOCK
             if request.args.get(name)}
    sheet_form = SHEETS[kind](formdata=None, staff_pin_id=locked.id,
                              reward_id=request.args.get("reward_id", type=int),
                              transaction_id=request.args.get("transaction_id", type=int),
                              **typed)
    return _render_sheet(store, card, kind, sheet_form,
                         notice=_("%(name)s's PIN works again.", name=locked.staff_name))
