"""The texts customers read, in the languages other than the merchant's default.

Every language is in one form, a tab each: switching tab keeps what was typed in the others,
and one save sends them all. ``?lang=`` names the tab shown."""
from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from loyalty.blueprints.merchant.base import OWNER, actor, bp, page
from loyalty.blueprints.merchant.forms import texts_form
from loyalty.services.errors import DomainError
from loyalty.services.merchant import programs
from loyalty.services.merchant import texts as merchant_texts
from loyalty.tenancy import current_merchant, roles_required


def _shown_data(program, rewards, languages):
    """The form's values: the texts given in each language, and their version."""
    data = {}
    for code in languages:
        given = merchant_texts.texts_given(program, rewards, code)
        data.update({f"{code}-{name}": text for name, text in given["program"].items()})
        for reward_id, texts in given["rewards"].items():
            data.update({f"{code}-reward-{reward_id}-{name}": text
                         for name, text in texts.items()})
        data[f"{code}-shown"] = merchant_texts.texts_version(given)
    return data


def _sent_texts(form, rewards, code):
    return {"program": {name: form[f"{code}-{name}"].data for name in merchant_texts.PROGRAM_TEXTS
                        if f"{code}-{name}" in form},
            "rewards": {reward.id: {name: form[f"{code}-reward-{reward.id}-{name}"].data
                                    for name in merchant_texts.REWARD_TEXTS}
                        for reward in rewards}}


@bp.route("/languages", methods=["GET", "POST"])
@roles_required(*OWNER)
def texts_page():
    program = programs.live_program(current_merchant.id)
    if program is None:
        flash(_("Create your loyalty program first."), "info")
        return redirect(url_for("merchant.program"))
    languages = merchant_texts.other_languages(current_merchant)
    shown = request.args.get("lang")
    shown = shown if shown in languages else languages[0]
    rewards = [reward for reward in program.rewards if reward.is_active]
    form_class = texts_form(program, rewards, languages)
    if request.method == "GET":
        form = form_class(data=_shown_data(program, rewards, languages))
    else:
        form = form_class()
    status = 200
    if form.validate_on_submit():
        try:
            merchant_texts.save_languages(
                program, rewards, {code: _sent_texts(form, rewards, code) for code in languages},
                shown={code: form[f"{code}-shown"].data for code in languages}, actor=actor())
        except DomainError as refusal:
            flash(str(refusal.message), "error")
            status = 422
        else:
            flash(_("Texts saved."), "success")
            return redirect(url_for("merchant.texts_page", lang=shown))
    elif request.method == "POST":
        status = 422
        # the first language with a mistake in it is the tab shown
        shown = next((code for code in languages if any(
            name.startswith(f"{code}-") for name in form.errors)), shown)
    return page("merchant/texts.html", form=form, program=program, rewards=rewards,
                shown=shown, other_languages=languages, status=status)
