"""Win-back: the "we miss you" email to members who stopped coming, its optional gift, and
the email previewed in each language."""
from flask import flash, redirect, url_for
from flask_babel import gettext as _

from loyalty.blueprints.merchant.base import OWNER, actor, bp, page
from loyalty.blueprints.merchant.email_previews import preview_response, previews
from loyalty.blueprints.merchant.win_back_forms import WinBackForm
from loyalty.services.delivery import win_back as win_back_emails
from loyalty.services.errors import DomainError
from loyalty.services.merchant import programs, win_back_settings
from loyalty.tenancy import current_merchant, roles_required


@bp.route("/win-back", methods=["GET", "POST"])
@roles_required(*OWNER)
def win_back():
    program = programs.live_program(current_merchant.id)
    if program is None:
        flash(_("Create your loyalty program first."), "info")
        return redirect(url_for("merchant.program"))
    form = WinBackForm(data={name: getattr(program, name) for name in win_back_settings.FIELDS})
    status = 200
    if form.validate_on_submit():
        try:
            win_back_settings.update_win_back(program, actor=actor(), **form.values())
        except DomainError as refusal:
            form[refusal.details.get("field", "winback_inactive_days")].errors = [
                str(refusal.message)]
            status = 422
        else:
            flash(_("Win-back settings saved."), "success")
            return redirect(url_for("merchant.win_back"))
    elif form.is_submitted():
        status = 422
    consenting, due = win_back_emails.audience(program)
    return page("merchant/win_back.html", form=form, program=program,
                previews=previews(win_back_emails.preview, program),
                consenting=consenting, due=due, status=status)


@bp.route("/win-back/preview/<lang>")
@roles_required(*OWNER)
def win_back_preview(lang):
    """The win-back email's HTML in ``lang``, as the customer's mail client shows it."""
    return preview_response(win_back_emails.preview, lang)
