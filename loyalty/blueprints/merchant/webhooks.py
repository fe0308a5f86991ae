"""Settings > Integrations > Webhooks (owners): endpoints that hear what happens to the shop's
cards, their recent deliveries, "send again" and a test event.

A new endpoint's signing secret is shown in the answer to the POST that made it, and nowhere
else (not in a URL, not in a flash message, not in the audit trail).
"""
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, StringField
from wtforms.validators import DataRequired, ValidationError

from loyalty.blueprints.merchant.base import OWNER, actor, bp, page
from loyalty.blueprints.merchant.forms import ConfirmForm
from loyalty.forms import OUTDATED, Form, field_error
from loyalty.models import MAX_ID
from loyalty.services.errors import DomainError, NotFound
from loyalty.services.integrations import webhooks
from loyalty.tenancy import current_merchant, roles_required


class EndpointForm(Form):
    url = StringField(_l("Endpoint address (URL)"), validators=[
        DataRequired(_l("Enter the address of your endpoint."))])
    events = SelectMultipleField(_l("Events to send"), coerce=str, validate_choice=False)

    def validate_events(self, field):
        if not field.data:
            raise ValidationError(_l("Pick at least one event to send."))
        if any(event not in webhooks.EVENTS for event in field.data):
            raise ValidationError(OUTDATED)

    @property
    def event_choices(self):
        """(event, what it means, ticked) for the checkboxes."""
        ticked = set(self.events.data or ())
        return [(event, about, event in ticked) for event, about in webhooks.EVENTS.items()]


def _page(form, *, revealed=None, status=200):
    endpoints = webhooks.endpoints_of(current_merchant.id)
    return page("merchant/webhooks.html", form=form, revealed=revealed, endpoints=endpoints,
                deliveries=webhooks.recent_deliveries([e.id for e in endpoints]),
                failures=webhooks.FAILURES, actions=ConfirmForm(), status=status)


@bp.route("/integrations/webhooks", methods=["GET", "POST"], endpoint="webhooks")
@roles_required(*OWNER)
def webhooks_page():
    form = EndpointForm()
    if form.validate_on_submit():
        try:
            endpoint, secret = webhooks.create_endpoint(
                current_merchant.id, url=form.url.data, events=form.events.data, actor=actor())
        except DomainError as refusal:
            field_error(form, refusal, "url")
        else:
            # Shown once, in this answer only (see the module's docstring).
            return _page(EndpointForm(formdata=None), revealed=(endpoint, secret))
    return _page(form, status=422 if request.method == "POST" else 200)


def _id_or_404(value):
    if not 0 < value <= MAX_ID:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return value


def _back():
    return redirect(url_for("merchant.webhooks"))


@bp.route("/integrations/webhooks/<int:endpoint_id>/remove", methods=["POST"])
@roles_required(*OWNER)
def remove_webhook(endpoint_id):
    try:
        webhooks.remove_endpoint(current_merchant.id, _id_or_404(endpoint_id), actor=actor())
    except NotFound:
        abort(404)
    flash(_("The endpoint is removed: nothing more is sent to it."), "success")
    return _back()


def _act(call, record_id, done):
    """Run ``call(merchant id, record id)``; flash ``done`` or the refusal; back to the page."""
    try:
        call(current_merchant.id, _id_or_404(record_id))
    except NotFound:
        abort(404)
    except DomainError as refusal:
        flash(str(refusal.message), "error")
        return _back()
    flash(done, "success")
    return _back()


@bp.route("/integrations/webhooks/<int:endpoint_id>/test", methods=["POST"])
@roles_required(*OWNER)
def test_webhook(endpoint_id):
    return _act(webhooks.send_test, endpoint_id,
                _("A test event is on its way: its result shows in the endpoint's deliveries."))


@bp.route("/integrations/webhooks/deliveries/<int:delivery_id>/again", methods=["POST"])
@roles_required(*OWNER)
def send_webhook_again(delivery_id):
    return _act(webhooks.send_again, delivery_id, _("The event is sent again."))
