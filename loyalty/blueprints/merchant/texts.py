"""The texts customers read, in the languages other than the merchant's default."""
from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from loyalty.blueprints.merchant.base import OWNER, actor, bp, page
from loyalty.blueprints.merchant.forms import texts_form
from loyalty.services import merchant_texts, programs
from loyalty.services.errors import DomainError
from loyalty.tenancy import current_merchant, roles_required


def _reward_texts(form, rewards):
    return {reward.id: {"name": form[f"reward-{reward.id}-name"].data,
                        "description": form[f"reward-{reward.id}-description"].data}
            for reward in rewards}


@bp.route("/languages", methods=["GET", "POST"])
@roles_required(*OWNER)
def texts_page():
    program = programs.live_program(current_merchant.id)
    if program is None:
        flash(_("Create your loyalty program first."), "info")
        return redirect(url_for("merchant.program"))
    languages = merchant_texts.other_languages(current_merchant)
    locale = request.args.get("lang")
    locale = locale if locale in languages else languages[0]
    rewards = [reward for reward in program.rewards if reward.is_active]
    form_class = texts_form(program, rewards)
    if request.method == "GET":
        given = (program.translations or {}).get(locale, {})
        data = {name: given.get(name) for name in merchant_texts.PROGRAM_TEXTS}
        for reward in rewards:
            texts = (reward.translations or {}).get(locale, {})
            data[f"reward-{reward.id}-name"] = texts.get("name")
            data[f"reward-{reward.id}-description"] = texts.get("description")
        form = form_class(data=data)
    else:
        form = form_class()
    status = 200
    if form.validate_on_submit():
        try:
            merchant_texts.save_texts(
                program, rewards, locale, actor=actor(),
                program_texts={name: form[name].data for name in merchant_texts.PROGRAM_TEXTS
                               if name in form},
                reward_texts=_reward_texts(form, rewards))
        except DomainError as refusal:
            flash(str(refusal.message), "error")
            status = 422
        else:
            flash(_("Texts saved."), "success")
            return redirect(url_for("merchant.texts_page", lang=locale))
    elif request.method == "POST":
        status = 422
    return page("merchant/texts.html", form=form, program=program, rewards=rewards,
                locale=locale, other_languages=languages, status=status)
