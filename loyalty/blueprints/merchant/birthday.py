"""The birthday bonus: what customers get for their birthday and when, with the email they
are sent, previewed in each language."""
from flask import flash, redirect, url_for
from flask_babel import gettext as _

from loyalty.blueprints.merchant.base import OWNER, actor, bp, page
from loyalty.blueprints.merchant.birthday_forms import BirthdayBonusForm
from loyalty.blueprints.merchant.email_previews import preview_response, previews
from loyalty.services.delivery import birthdays
from loyalty.services.errors import DomainError
from loyalty.services.merchant import birthday_bonus, programs
from loyalty.tenancy import current_merchant, roles_required


def _program_or_none():
    program = programs.live_program(current_merchant.id)
    if program is None:
        flash(_("Create your loyalty program first."), "info")
    return program


@bp.route("/birthday", methods=["GET", "POST"])
@roles_required(*OWNER)
def birthday():
    program = _program_or_none()
    if program is None:
        return redirect(url_for("merchant.program"))
    form = BirthdayBonusForm(data={name: getattr(program, name) for name in
                                   birthday_bonus.LIMITS})
    status = 200
    if form.validate_on_submit():
        try:
            birthday_bonus.update_birthday_bonus(program, actor=actor(), **form.values())
        except DomainError as refusal:
            form[refusal.details.get("field", "birthday_bonus_points")].errors = [
                str(refusal.message)]
            status = 422
        else:
            flash(_("Birthday bonus saved."), "success")
            return redirect(url_for("merchant.birthday"))
    elif form.is_submitted():
        status = 422
    return page("merchant/birthday.html", form=form, program=program,
                previews=previews(birthdays.preview, program),
                status=status)


@bp.route("/birthday/preview/<lang>")
@roles_required(*OWNER)
def birthday_preview(lang):
    """The birthday email's HTML in ``lang``, as the customer's mail client shows it."""
    return preview_response(birthdays.preview, lang)
