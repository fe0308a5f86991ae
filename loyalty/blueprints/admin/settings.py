"""A merchant's loyalty settings, which only platform admins change."""
from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _

from loyalty.blueprints.admin.base import actor, page
from loyalty.blueprints.admin.forms import SettingsForm
from loyalty.blueprints.admin.views import bp
from loyalty.extensions import db
from loyalty.models import MAX_ID, Merchant
from loyalty.services.errors import DomainError
from loyalty.services.merchant import programs
from loyalty.tenancy import PLATFORM_ADMIN, roles_required


@bp.route("/merchants/<int:merchant_id>/settings", methods=["GET", "POST"])
@roles_required(PLATFORM_ADMIN)
def merchant_settings(merchant_id):
    merchant = db.session.get(Merchant, merchant_id) if 0 < merchant_id <= MAX_ID else None
    if merchant is None:
        abort(404)
    settings = programs.loyalty_settings(merchant.id)
    form = SettingsForm(obj=settings) if request.method == "GET" else SettingsForm()
    if form.validate_on_submit():
        try:
            programs.update_settings(merchant.id, actor=actor(), **form.values())
        except DomainError as refusal:
            flash(str(refusal.message), "error")
        else:
            flash(_("Settings saved: the counter and the shop's pages follow at once."), "success")
            return redirect(url_for("admin.merchant_settings", merchant_id=merchant.id))
    status = 422 if request.method == "POST" else 200
    return page("admin/settings.html", form=form, merchant=merchant, status=status,
                defaults=(current_app.config["DEFAULT_PIN_LOCKOUT_ATTEMPTS"],
                          current_app.config["DEFAULT_PIN_LOCKOUT_MINUTES"]))
