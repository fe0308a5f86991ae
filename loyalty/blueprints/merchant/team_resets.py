"""The team page's "Send a password reset": an owner for any member of this merchant, a
manager for the staff at their stores; someone else's member is a 404."""
from flask import flash, redirect, url_for
from flask_babel import gettext as _

from loyalty.blueprints.merchant.base import OWNER_OR_MANAGER, actor, bp, managed_or_404
from loyalty.blueprints.merchant.forms import ConfirmForm
from loyalty.forms import OUTDATED
from loyalty.models import Membership
from loyalty.services.errors import DomainError
from loyalty.services.platform import password_links
from loyalty.tenancy import roles_required


@bp.post("/team/<int:membership_id>/password-reset")
@roles_required(*OWNER_OR_MANAGER)
def member_password_reset(membership_id):
    """Email the member a link to choose a new password (audited), and say so."""
    membership = managed_or_404(Membership, membership_id)
    if not ConfirmForm().validate_on_submit():
        flash(str(OUTDATED), "error")
        return redirect(url_for("merchant.team_page"))
    try:
        password_links.send_reset_to_member(membership, actor=actor())
    except DomainError as refusal:
        flash(str(refusal.message), "error")
    else:
        flash(_("A password reset link is on its way to %(email)s. It works once, within an "
                "hour.", email=membership.user.email), "success")
    return redirect(url_for("merchant.team_page"))
