"""Where a person works: the invitations waiting for their answer, and the merchant they act
for when they are on several teams."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from loyalty.blueprints.auth.forms import ChooseMerchantForm, InvitationAnswerForm
from loyalty.blueprints.auth.views import bp, landing
from loyalty.forms import OUTDATED
from loyalty.models import MAX_ID
from loyalty.services.errors import NotFound
from loyalty.services.merchant import team
from loyalty.tenancy import choose_merchant


def _outdated():
    """An altered or outdated form changes nothing and says so."""
    return render_template("errors/error.html", status=400, title=_("This form has expired"),
                           message=OUTDATED), 400


@bp.route("/invitations")
@login_required
def invitations():
    return render_template("auth/invitations.html", form=InvitationAnswerForm(),
                           invitations=team.invitations_for(current_user))


@bp.route("/invitations/<int:membership_id>", methods=["POST"])
@login_required
def answer_invitation(membership_id):
    if not 0 < membership_id <= MAX_ID:
        abort(404)
    form = InvitationAnswerForm()
    if not form.validate_on_submit() or form.accept.data == form.decline.data:
        return _outdated()  # no answer, or both: an altered form decides nothing
    try:
        if form.accept.data:
            membership = team.accept_invitation(current_user, membership_id,
                                                ip_address=request.remote_addr)
        else:
            team.decline_invitation(current_user, membership_id, ip_address=request.remote_addr)
    except NotFound:
        abort(404)  # withdrawn, answered, or someone else's: nothing to answer here
    if not form.accept.data:
        flash(_("Invitation declined."), "info")
        return redirect(url_for("auth.invitations"))
    choose_merchant(membership.merchant_id)
    flash(_("You joined %(shop)s. Switch between your shops in the top bar.",
            shop=membership.merchant.name), "success")
    return redirect(landing(current_user))


@bp.route("/account/merchant", methods=["POST"])
@login_required
def switch_merchant():
    form = ChooseMerchantForm()
    if not form.validate_on_submit():
        return _outdated()
    choose_merchant(form.merchant_id.data)
    return redirect(landing(current_user))
