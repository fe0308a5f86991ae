"""Happy hours (owner): the list (running now, upcoming, past or paused), scheduling one,
changing it and deleting it. The rules live in ``services/merchant/happy_hours.py``."""
from babel.dates import get_day_names
from flask import flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from loyalty import clock
from loyalty.blueprints.merchant.base import OWNER, actor, bp, page
from loyalty.blueprints.merchant.forms import ConfirmForm
from loyalty.blueprints.merchant.happy_hour_forms import HappyHourForm
from loyalty.forms import field_error
from loyalty.models import HappyHour
from loyalty.services.engine.merchant_cache import merchant_rows
from loyalty.services.errors import DomainError
from loyalty.services.merchant import happy_hours, stores
from loyalty.tenancy import current_merchant, get_or_404, roles_required


def _day_names():
    return get_day_names("abbreviated", locale=str(get_locale() or "en"))


def _form(**kwargs):
    form = HappyHourForm(**kwargs)
    form.set_choices(merchant_rows(current_merchant.id).program,
                     stores.stores_of(current_merchant.id))
    return form


def _save(form, save):
    """Save a valid form; a refusal of the service is shown at its field. True when saved."""
    if not form.validate_on_submit():
        return False
    try:
        save(form.values())
    except DomainError as refusal:
        field_error(form, refusal, "name")
        return False
    return True


@bp.route("/happy-hours", methods=["GET", "POST"])
@roles_required(*OWNER)
def happy_hours_page():
    form = _form()
    if request.method == "GET":
        form.starts_on.data = clock.local_date(clock.now(), current_merchant.timezone).isoformat()
    if _save(form, lambda values: happy_hours.create_happy_hour(current_merchant, actor=actor(),
                                                                **values)):
        flash(_("Happy hour scheduled."), "success")
        return redirect(url_for("merchant.happy_hours_page"))
    running, upcoming, past = happy_hours.owner_lists(current_merchant)
    return page("merchant/happy_hours.html", form=form, running=running, upcoming=upcoming,
                past=past, actions=ConfirmForm(), day_names=_day_names(),
                status=422 if request.method == "POST" else 200)


@bp.route("/happy-hours/<int:happy_hour_id>", methods=["GET", "POST"])
@roles_required(*OWNER)
def happy_hour(happy_hour_id):
    hour = get_or_404(HappyHour, happy_hour_id)
    if request.method == "GET":
        form = _form(obj=hour)
        form.fill(hour)
    else:
        form = _form()
    if _save(form, lambda values: happy_hours.update_happy_hour(hour, actor=actor(), **values)):
        flash(_("Happy hour saved."), "success")
        return redirect(url_for("merchant.happy_hours_page"))
    return page("merchant/happy_hour.html", hour=hour, form=form, actions=ConfirmForm(),
                status=422 if request.method == "POST" else 200)


@bp.route("/happy-hours/<int:happy_hour_id>/delete", methods=["POST"])
@roles_required(*OWNER)
def happy_hour_delete(happy_hour_id):
    hour = get_or_404(HappyHour, happy_hour_id)
    if ConfirmForm().validate_on_submit():
        happy_hours.delete_happy_hour(hour, actor=actor(), by=current_user)
        flash(_("Happy hour deleted."), "success")
    return redirect(url_for("merchant.happy_hours_page"))
