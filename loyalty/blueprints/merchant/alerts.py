"""Fraud alerts: the list (open, reviewed, by rule and store), one alert with its cards and
ledger rows, and its review. Owners see every alert; a manager those of their stores."""
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from loyalty.blueprints.merchant.alert_forms import AlertFilterForm, ReviewForm
from loyalty.blueprints.merchant.base import (
    OWNER_OR_MANAGER,
    actor,
    bp,
    id_arg,
    managed_store_ids,
    page,
)
from loyalty.forms import field_error
from loyalty.models import MAX_ID
from loyalty.services.errors import Conflict, DomainError, NotFound
from loyalty.services.merchant import card_directory, fraud_alerts
from loyalty.tenancy import current_merchant, roles_required

bp.add_app_template_global(fraud_alerts.rule_label, "rule_label")
bp.add_app_template_global(fraud_alerts.rule_description, "rule_description")
bp.add_app_template_global(fraud_alerts.rule_unit, "rule_unit")


@bp.route("/alerts")
@roles_required(*OWNER_OR_MANAGER)
def alerts():
    form = AlertFilterForm(formdata=request.args)
    form.validate()
    stores = card_directory.stores_for_filter(current_merchant.id, managed_store_ids())
    form.offer(fraud_alerts.rule_choices(), stores)
    filters = fraud_alerts.AlertFilters(status=form.status.data, rule=form.rule.data or "",
                                        store_id=form.store.data, before_id=id_arg("before"))
    result = fraud_alerts.list_alerts(current_merchant.id, filters, store_ids=managed_store_ids())
    return page("merchant/alerts.html", form=form, result=result, filters=filters,
                open_count=fraud_alerts.open_count(current_merchant.id,
                                                   store_ids=managed_store_ids()))


def _alert_or_404(alert_id):
    if not 0 < alert_id <= MAX_ID:
        abort(404)
    try:
        return fraud_alerts.get_alert(current_merchant.id, alert_id, store_ids=managed_store_ids())
    except NotFound:
        abort(404)


def _alert_page(alert, form=None, status=200):
    return page("merchant/alert.html", detail=fraud_alerts.alert_detail(alert),
                form=form or ReviewForm(formdata=None), status=status)


@bp.route("/alerts/<int:alert_id>")
@roles_required(*OWNER_OR_MANAGER)
def alert(alert_id):
    return _alert_page(_alert_or_404(alert_id))


@bp.route("/alerts/<int:alert_id>/review", methods=["POST"])
@roles_required(*OWNER_OR_MANAGER)
def review_alert(alert_id):
    item = _alert_or_404(alert_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        return _alert_page(item, form, 422)
    try:
        fraud_alerts.review(item, form.note.data, actor())
    except Conflict as refusal:  # reviewed meanwhile: the page shows that review
        flash(str(refusal.message), "error")
        return _alert_page(_alert_or_404(alert_id), status=refusal.status_code)
    except DomainError as refusal:
        field_error(form, refusal, "note")
        return _alert_page(item, form, refusal.status_code)
    flash(_("Alert reviewed: your note is kept with it."), "success")
    return redirect(url_for("merchant.alert", alert_id=item.id))
