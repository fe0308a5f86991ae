"""The team: invite people with a role, change roles (owners), remove people."""
from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from loyalty.blueprints.merchant.base import (
    OWNER,
    OWNER_OR_MANAGER,
    actor,
    bp,
    is_owner,
    managed_or_404,
    managed_store_ids,
    page,
)
from loyalty.blueprints.merchant.forms import ConfirmForm, InviteForm, RoleForm
from loyalty.forms import OUTDATED, field_error
from loyalty.models import Membership, Role
from loyalty.services.errors import DomainError
from loyalty.services.merchant import stores, team
from loyalty.services.platform import accounts
from loyalty.tenancy import current_merchant, roles_required


def _stores():
    return stores.stores_of(current_merchant.id, managed_store_ids())


def _store(store_id):
    """One of the signed-in person's stores, or None."""
    return next((store for store in _stores() if store.id == store_id), None)


def _team_page(form, *, status=200):
    return page("merchant/team.html", form=form, stores=_stores(),
                members=team.members_of(current_merchant.id, managed_store_ids()),
                actions=ConfirmForm(), role_form=RoleForm(formdata=None), status=status)


@bp.route("/team", methods=["GET", "POST"])
@roles_required(*OWNER_OR_MANAGER)
def team_page():
    form = InviteForm()
    if not is_owner():
        form.role.data = Role.STORE_STAFF.value  # managers invite staff
    if request.method == "GET" and form.store_id.data is None:
        # The first store is preselected, so the form's defaults (staff there) can be sent.
        form.store_id.data = next((store.id for store in _stores()), None)
    if form.validate_on_submit():
        role = Role(form.role.data)
        store = _store(form.store_id.data)
        if role is not Role.MERCHANT_OWNER and store is None:
            form.store_id.errors.append(_("Choose one of your stores for this role."))
        else:
            try:
                team.invite(current_merchant, email=form.email.data, name=form.name.data,
                            role=role, store=store, actor=actor())
            except DomainError as refusal:
                field_error(form, refusal, "email")
            else:
                # The same answer whether or not the address has an account: the link and
                # any name travel to the invitee only, by email.
                flash(_("Invitation sent to %(email)s. They join the team when they accept it.",
                        email=accounts.normalize_email(form.email.data)), "success")
                return redirect(url_for("merchant.team_page"))
    return _team_page(form, status=422 if request.method == "POST" else 200)


@bp.route("/team/<int:membership_id>/role", methods=["POST"])
@roles_required(*OWNER)
def member_role(membership_id):
    membership = managed_or_404(Membership, membership_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(str(OUTDATED), "error")
        return _team_page(InviteForm(formdata=None), status=422)
    try:
        team.change_role(membership, form.role.data, _store(form.store_id.data), actor=actor())
    except DomainError as refusal:
        flash(str(refusal.message), "error")
    else:
        flash(_("Role changed."), "success")
    return redirect(url_for("merchant.team_page"))


@bp.route("/team/<int:membership_id>/remove", methods=["GET", "POST"])
@roles_required(*OWNER_OR_MANAGER)
def remove_member(membership_id):
    """GET asks first, saying who loses access to what; only the POST of that page removes."""
    membership = managed_or_404(Membership, membership_id)
    if request.method == "GET":
        return page("merchant/team_remove.html", member=membership, actions=ConfirmForm())
    if ConfirmForm().validate_on_submit():
        try:
            team.remove(membership, actor=actor())
        except DomainError as refusal:
            flash(str(refusal.message), "error")
        else:
            flash(_("%(name)s is no longer in the team here.", name=membership.user.name), "success")
    return redirect(url_for("merchant.team_page"))
