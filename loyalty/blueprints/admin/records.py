"""Merchants, stores and users: lists with their deleted ones, create and edit, soft delete
with a confirmation that counts what goes, and restore."""
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from loyalty.blueprints.admin.base import actor, page, page_arg
from loyalty.blueprints.admin.forms import MerchantForm, NewMerchantForm, UserForm
from loyalty.blueprints.admin.views import bp
from loyalty.blueprints.merchant.forms import StoreForm
from loyalty.forms import Form, field_error
from loyalty.models import MAX_ID
from loyalty.services.errors import DomainError, NotFound
from loyalty.services.merchant import stores
from loyalty.services.platform import accounts, merchant_admin, password_links, records
from loyalty.tenancy import PLATFORM_ADMIN, roles_required

KIND = "<any(merchants, stores, users):kind>"


def _record_or_404(kind, record_id):
    if not 0 < record_id <= MAX_ID:
        abort(404)
    try:
        return records.record(kind, record_id)
    except NotFound:
        abort(404)


def _live_or_404(kind, record_id):
    found = _record_or_404(kind, record_id)
    if found.deleted_at is not None:
        abort(404)
    return found


@bp.route(f"/{KIND}")
@roles_required(PLATFORM_ADMIN)
def record_list(kind):
    deleted = request.args.get("deleted", "live")
    deleted = deleted if deleted in records.DELETED_FILTERS else "live"
    text = request.args.get("q", "")
    listing = records.listing(kind, text=text, deleted=deleted, page=page_arg())
    members = records.member_counts([row[0].id for row in listing.rows]) if kind == "users" else {}
    return page(f"admin/{kind}.html", kind=kind, listing=listing, deleted=deleted, q=text,
                members=members)


@bp.route(f"/{KIND}/<int:record_id>/delete", methods=["GET", "POST"])
@roles_required(PLATFORM_ADMIN)
def delete_record(kind, record_id):
    target = _live_or_404(kind, record_id)
    form = Form()
    if form.validate_on_submit():
        try:
            records.delete(target, actor=actor())
        except DomainError as refusal:
            flash(str(refusal.message), "error")
        else:
            flash(_("Deleted. You find it under “Only deleted”, where you can restore it."),
                  "success")
        return redirect(url_for("admin.record_list", kind=kind))
    return page("admin/delete.html", kind=kind, target=target, form=form,
                lines=records.deletion_preview(target),
                status=400 if request.method == "POST" else 200)


@bp.post(f"/{KIND}/<int:record_id>/restore")
@roles_required(PLATFORM_ADMIN)
def restore_record(kind, record_id):
    target = _record_or_404(kind, record_id)
    if not Form().validate_on_submit():
        abort(400)
    try:
        records.restore(target, actor=actor())
    except DomainError as refusal:
        flash(str(refusal.message), "error")
        return redirect(url_for("admin.record_list", kind=kind, deleted="deleted"))
    flash(_("Restored, with everything its deletion had removed."), "success")
    return redirect(url_for("admin.record_list", kind=kind))


@bp.route("/merchants/new", methods=["GET", "POST"])
@roles_required(PLATFORM_ADMIN)
def new_merchant():
    form = NewMerchantForm()
    if form.validate_on_submit():
        try:
            merchant = merchant_admin.create_merchant(
                owner_email=form.owner_email.data, owner_name=form.owner_name.data,
                actor=actor(), **form.values())
        except DomainError as refusal:
            # The address made from the name, shown so that a refused one can be changed.
            form.slug.data = form.slug.data or merchant_admin.slug_from_name(form.name.data)
            field_error(form, refusal, "owner_email")
        else:
            flash(_("Merchant created; its owner has been invited by email."), "success")
            return redirect(url_for("admin.edit_merchant", record_id=merchant.id))
    status = 422 if request.method == "POST" else 200
    return page("admin/merchant_form.html", form=form, merchant=None, status=status)


@bp.route("/merchants/<int:record_id>", methods=["GET", "POST"])
@roles_required(PLATFORM_ADMIN)
def edit_merchant(record_id):
    merchant = _live_or_404("merchants", record_id)
    form = MerchantForm(obj=merchant) if request.method == "GET" else MerchantForm()
    if form.validate_on_submit():
        try:
            merchant_admin.update_merchant(merchant, actor=actor(), **form.values())
        except DomainError as refusal:
            field_error(form, refusal, "name")
        else:
            flash(_("Merchant saved."), "success")
            return redirect(url_for("admin.edit_merchant", record_id=record_id))
    status = 422 if request.method == "POST" else 200
    return page("admin/merchant_form.html", form=form, merchant=merchant, status=status)


@bp.route("/merchants/<int:record_id>/stores/new", methods=["GET", "POST"])
@roles_required(PLATFORM_ADMIN)
def new_store(record_id):
    merchant = _live_or_404("merchants", record_id)
    form = StoreForm()
    if form.validate_on_submit():
        try:
            stores.add_store(merchant, actor=actor(), **form.store_values())
        except DomainError as refusal:
            field_error(form, refusal, "code")
        else:
            flash(_("Store added."), "success")
            return redirect(url_for("admin.record_list", kind="stores", q=merchant.name))
    status = 422 if request.method == "POST" else 200
    return page("admin/store_form.html", form=form, store=None, merchant=merchant,
                status=status)


@bp.route("/stores/<int:record_id>", methods=["GET", "POST"])
@roles_required(PLATFORM_ADMIN)
def edit_store(record_id):
    store = _live_or_404("stores", record_id)
    form = StoreForm(obj=store) if request.method == "GET" else StoreForm()
    if form.validate_on_submit():
        try:
            stores.update_store(store, actor=actor(), **form.store_values())
        except DomainError as refusal:
            field_error(form, refusal, "code")
        else:
            flash(_("Store saved."), "success")
            return redirect(url_for("admin.record_list", kind="stores"))
    status = 422 if request.method == "POST" else 200
    return page("admin/store_form.html", form=form, store=store, merchant=store.merchant,
                status=status)


@bp.route("/users/<int:record_id>", methods=["GET", "POST"])
@roles_required(PLATFORM_ADMIN)
def edit_user(record_id):
    user = _live_or_404("users", record_id)
    form = UserForm(obj=user) if request.method == "GET" else UserForm()
    if form.validate_on_submit():
        try:
            accounts.update_user(user, name=form.name.data, email=form.email.data,
                                 is_platform_admin=form.is_platform_admin.data, actor=actor())
        except DomainError as refusal:
            field_error(form, refusal, "email")
        else:
            flash(_("Account saved."), "success")
            return redirect(url_for("admin.record_list", kind="users"))
    status = 422 if request.method == "POST" else 200
    return page("admin/user_form.html", form=form, user=user, reset_form=Form(), status=status)


@bp.post("/users/<int:record_id>/password-reset")
@roles_required(PLATFORM_ADMIN)
def send_password_reset(record_id):
    """Email the person a link to choose a new password (audited)."""
    user = _live_or_404("users", record_id)
    if not Form().validate_on_submit():
        abort(400)
    password_links.send_reset(user, actor=actor())
    flash(_("A password reset link is on its way to %(email)s. It works once, within an hour.",
            email=user.email), "success")
    return redirect(url_for("admin.edit_user", record_id=record_id))


