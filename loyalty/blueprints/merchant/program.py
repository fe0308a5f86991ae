"""The start page with its getting-started checklist, program set-up, rewards, activation."""
from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField

from loyalty.blueprints.merchant.base import (
    OWNER,
    OWNER_OR_MANAGER,
    actor,
    bp,
    managed_store_ids,
    page,
)
from loyalty.blueprints.merchant.forms import (
    ConfirmForm,
    ProgramForm,
    RewardForm,
    program_form_data,
)
from loyalty.models import Reward
from loyalty.services.errors import DomainError
from loyalty.services.merchant import fraud_alerts, onboarding, programs
from loyalty.tenancy import current_merchant, get_or_404, roles_required


def _starting_values(program):
    """The program's values, or sensible ones for a new program."""
    if program is not None:
        return program_form_data(program)
    return {"program_type": "stamps", "card_name": current_merchant.name, "stamps_target": 10,
            "cooldown_minutes": 15, "max_stamps_per_day": 5, "points_per_euro": 10,
            "point_value": "1", "require_staff_pin": True, "offline_enabled": True,
            "offline_max_actions": 50, "offline_max_points": 500}


def _program_or_redirect():
    program = programs.live_program(current_merchant.id)
    if program is None:
        flash(_("Create your loyalty program first."), "info")
    return program


@bp.route("/")
@roles_required(*OWNER_OR_MANAGER)
def index():
    return page("merchant/index.html", steps=onboarding.checklist(current_merchant.id),
                open_alerts=fraud_alerts.open_count(current_merchant.id,
                                                    store_ids=managed_store_ids()))


@bp.route("/program", methods=["GET", "POST"])
@roles_required(*OWNER)
def program():
    existing = programs.live_program(current_merchant.id)
    if request.method == "GET":
        form = ProgramForm(formdata=None, data=_starting_values(existing))
    else:
        form = ProgramForm()
    if form.validate_on_submit():
        try:
            if existing is None:
                programs.create_program(current_merchant, active=False, actor=actor(),
                                        **form.program_values())
                flash(_("Your program is saved. Add rewards and staff PINs, then switch it on."),
                      "success")
            else:
                programs.update_program(existing, actor=actor(), **form.program_values())
                flash(_("Program settings saved."), "success")
        except DomainError as refusal:
            form.card_name.errors.append(str(refusal.message))
        else:
            return redirect(url_for("merchant.program"))
    status = 422 if request.method == "POST" else 200
    return page("merchant/program.html", form=form, program=existing, status=status)


@bp.route("/program/fields")
@roles_required(*OWNER)
def program_fields():
    """The form's fields for the chosen kind of program, keeping what was typed (htmx sends
    the form's values along); nothing is checked or saved here."""
    # Fields the other kind did not show come back with their starting values.
    start = ProgramForm(formdata=None, meta={"csrf": False},
                        data=_starting_values(programs.live_program(current_merchant.id)))
    values = MultiDict({name: field._value() for name, field in start._fields.items()
                        if hasattr(field, "_value") and not isinstance(field, BooleanField)})
    for name in request.args:
        values.setlist(name, request.args.getlist(name))
    form = ProgramForm(formdata=values, meta={"csrf": False})
    return page("merchant/_program_fields.html", form=form)


def _toggle_page(active):
    program = _program_or_redirect()
    if program is None:
        return redirect(url_for("merchant.program"))
    form = ConfirmForm()
    if form.validate_on_submit():
        change = programs.activate_program if active else programs.deactivate_program
        change(program, actor=actor())
        flash(_("The program is on: staff can stamp and customers can join.") if active
              else _("The program is off: staff cannot add or redeem until you switch it on."),
              "success")
        return redirect(url_for("merchant.index"))
    return page("merchant/program_toggle.html", program=program, form=form, active=active)


@bp.route("/program/activate", methods=["GET", "POST"])
@roles_required(*OWNER)
def activate_program():
    return _toggle_page(True)


@bp.route("/program/deactivate", methods=["GET", "POST"])
@roles_required(*OWNER)
def deactivate_program():
    return _toggle_page(False)


@bp.route("/rewards", methods=["GET", "POST"])
@roles_required(*OWNER)
def rewards():
    program = _program_or_redirect()
    if program is None:
        return redirect(url_for("merchant.program"))
    form = RewardForm()
    if form.validate_on_submit():
        programs.add_reward(program, form.name.data, form.points_cost.data,
                            description=form.description.data, actor=actor())
        flash(_("Reward added."), "success")
        return redirect(url_for("merchant.rewards"))
    status = 422 if request.method == "POST" else 200
    return page("merchant/rewards.html", "merchant/_rewards_list.html", program=program, form=form,
                rewards=programs.catalogue(program), actions=ConfirmForm(), status=status)


@bp.route("/rewards/<int:reward_id>", methods=["GET", "POST"])
@roles_required(*OWNER)
def reward(reward_id):
    item = get_or_404(Reward, reward_id)
    form = RewardForm(obj=item) if request.method == "GET" else RewardForm()
    if form.validate_on_submit():
        programs.update_reward(item, name=form.name.data, points_cost=form.points_cost.data,
                               description=form.description.data, actor=actor())
        flash(_("Reward saved."), "success")
        return redirect(url_for("merchant.rewards"))
    status = 422 if request.method == "POST" else 200
    return page("merchant/reward.html", reward=item, form=form, status=status)


@bp.route("/rewards/<int:reward_id>/<any(up, down):direction>", methods=["POST"])
@roles_required(*OWNER)
def move_reward(reward_id, direction):
    item = get_or_404(Reward, reward_id)
    if ConfirmForm().validate_on_submit():
        programs.move_reward(item, -1 if direction == "up" else 1, actor=actor())
    return _rewards_list(item)


@bp.route("/rewards/<int:reward_id>/<any(retire, restore):change>", methods=["POST"])
@roles_required(*OWNER)
def reward_active(reward_id, change):
    item = get_or_404(Reward, reward_id)
    if ConfirmForm().validate_on_submit():
        programs.set_reward_active(item, change == "restore", actor=actor())
    return _rewards_list(item)


def _rewards_list(item):
    program = programs.live_program(current_merchant.id)
    if request.headers.get("HX-Request") != "true":
        return redirect(url_for("merchant.rewards"))
    return page("merchant/_rewards_list.html", program=program, rewards=programs.catalogue(program),
                actions=ConfirmForm())
