"""Stores (owner) and staff PINs (owner; managers for their own stores)."""
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from loyalty import clock
from loyalty.blueprints.merchant.base import (
    OWNER,
    OWNER_OR_MANAGER,
    actor,
    bp,
    managed_or_404,
    managed_store_ids,
    page,
)
from loyalty.blueprints.merchant.forms import ConfirmForm, StaffMemberForm, StaffPinForm, StoreForm
from loyalty.models import StaffPin, Store
from loyalty.services.engine import staff_pins
from loyalty.services.errors import Conflict, DomainError
from loyalty.services.merchant import stores
from loyalty.tenancy import current_merchant, get_or_404, roles_required


def _save_store(form, save, message):
    """Save a valid store form and go back to the list; a taken code is said next to the
    field. None when the form is shown again."""
    if not form.validate_on_submit():
        return None
    try:
        save(form.store_values())
    except Conflict as taken:
        form.code.errors.append(str(taken.message))
        return None
    flash(message, "success")
    return redirect(url_for("merchant.stores_page"))


@bp.route("/stores", methods=["GET", "POST"])
@roles_required(*OWNER)
def stores_page():
    form = StoreForm()
    saved = _save_store(form, lambda values: stores.add_store(current_merchant, actor=actor(),
                                                              **values), _("Store added."))
    if saved:
        return saved
    status = 422 if request.method == "POST" else 200
    return page("merchant/stores.html", form=form, stores=stores.stores_of(current_merchant.id),
                actions=ConfirmForm(), status=status)


@bp.route("/stores/<int:store_id>", methods=["GET", "POST"])
@roles_required(*OWNER)
def store(store_id):
    item = get_or_404(Store, store_id)
    form = StoreForm(obj=item) if request.method == "GET" else StoreForm()
    saved = _save_store(form, lambda values: stores.update_store(item, actor=actor(), **values),
                        _("Store saved."))
    if saved:
        return saved
    status = 422 if request.method == "POST" else 200
    return page("merchant/store.html", store=item, form=form, status=status)


@bp.route("/stores/<int:store_id>/<any(close, reopen):change>", methods=["POST"])
@roles_required(*OWNER)
def store_open(store_id, change):
    item = get_or_404(Store, store_id)
    if ConfirmForm().validate_on_submit():
        stores.set_store_open(item, change == "reopen", actor=actor())
        flash(_("%(store)s is open again.", store=item.name) if change == "reopen"
              else _("%(store)s is closed: its terminals stop working; its history stays.",
                     store=item.name), "success")
    return redirect(url_for("merchant.stores_page"))


# --- staff PINs ---------------------------------------------------------------------------

def _open_stores():
    """The open stores the signed-in person manages: where a new PIN can work."""
    return [store for store in stores.stores_of(current_merchant.id, managed_store_ids())
            if store.is_active]


def _pin_or_404(staff_pin_id):
    """The merchant's active PIN at a store the signed-in person manages, or a 404."""
    staff_pin = managed_or_404(StaffPin, staff_pin_id)
    if not staff_pin.is_active:
        abort(404)
    return staff_pin


def _pin_form(**kwargs):
    form = StaffPinForm(**kwargs)
    form.set_stores(_open_stores())
    return form


def _pins_page(form, *, revealed=None, status=200):
    return page("merchant/pins.html", form=form, revealed=revealed, actions=ConfirmForm(),
                now=clock.now(),
                pins=staff_pins.staff_pins_of(current_merchant.id, managed_store_ids()),
                status=status)


@bp.route("/pins", methods=["GET", "POST"])
@roles_required(*OWNER_OR_MANAGER)
def pins():
    form = _pin_form()
    if form.validate_on_submit():
        try:
            staff_pin, pin = staff_pins.issue_staff_pin(form.store, form.staff_name.data,
                                                        actor=actor())
        except Conflict as clash:
            form.staff_name.errors.append(str(clash.message))
        else:
            # Shown once, in this answer only: never stored in clear, never in the session.
            return _pins_page(_pin_form(formdata=None), revealed=(staff_pin, pin))
    return _pins_page(form, status=422 if request.method == "POST" else 200)


@bp.route("/pins/<int:staff_pin_id>", methods=["GET", "POST"])
@roles_required(*OWNER_OR_MANAGER)
def staff_pin(staff_pin_id):
    item = _pin_or_404(staff_pin_id)
    form = StaffMemberForm(obj=item) if request.method == "GET" else StaffMemberForm()
    if form.validate_on_submit():
        staff_pins.update_staff_pin(item, form.staff_name.data,
                                     can_unlock=form.can_unlock.data, actor=actor())
        flash(_("Saved."), "success")
        return redirect(url_for("merchant.pins"))
    status = 422 if request.method == "POST" else 200
    return page("merchant/staff_pin.html", staff_pin=item, form=form, status=status)


@bp.route("/pins/<int:staff_pin_id>/reset", methods=["POST"])
@roles_required(*OWNER_OR_MANAGER)
def reset_pin(staff_pin_id):
    item = _pin_or_404(staff_pin_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    pin = staff_pins.reset_staff_pin(item, actor=actor())
    return _pins_page(_pin_form(formdata=None), revealed=(item, pin))


@bp.route("/pins/<int:staff_pin_id>/<any(deactivate, unlock):change>", methods=["POST"])
@roles_required(*OWNER_OR_MANAGER)
def pin_state(staff_pin_id, change):
    item = _pin_or_404(staff_pin_id)
    if ConfirmForm().validate_on_submit():
        try:
            if change == "unlock":
                staff_pins.unlock_staff_pin(item, actor=actor())
                flash(_("%(name)s's PIN works again.", name=item.staff_name), "success")
            else:
                staff_pins.deactivate_staff_pin(item, actor=actor())
                flash(_("%(name)s's PIN no longer works.", name=item.staff_name), "success")
        except DomainError as refusal:
            flash(str(refusal.message), "error")
    return redirect(url_for("merchant.pins"))
