"""Alert rules: the owner switches each fraud rule on or off and sets its threshold (the
alerts themselves are on the alerts pages)."""
from flask import flash, redirect, url_for
from flask_babel import gettext as _

from loyalty.blueprints.merchant.base import OWNER, actor, bp, page
from loyalty.blueprints.merchant.fraud_settings_forms import FraudRulesForm, form_data
from loyalty.services.errors import DomainError
from loyalty.services.merchant import fraud_rules
from loyalty.tenancy import current_merchant, roles_required


@bp.route("/alert-rules", methods=["GET", "POST"])
@roles_required(*OWNER)
def fraud_settings():
    form = FraudRulesForm(data=form_data(fraud_rules.settings_of(current_merchant.id)))
    status = 200
    if form.validate_on_submit():
        try:
            changed = fraud_rules.update_settings(current_merchant.id, form.values(),
                                                  actor=actor())
        except DomainError as refusal:
            name = refusal.details.get("field")
            target = form[name] if name in form else form["staff_hour_threshold"]
            target.errors = [str(refusal.message)]
            status = 422
        else:
            flash(_("Alert rules saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("merchant.fraud_settings"))
    elif form.is_submitted():
        status = 422
    return page("merchant/fraud_settings.html", form=form, status=status,
                night_ends_at=fraud_rules.NIGHT_ENDS_AT)
