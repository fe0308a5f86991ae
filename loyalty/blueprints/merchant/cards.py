"""Cards: the list with search and filters, a card's history, deactivation and adjustments."""
from flask import flash, redirect, request, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_login import current_user

from loyalty import clock
from loyalty.blueprints.merchant.base import (
    OWNER,
    OWNER_OR_MANAGER,
    actor,
    bp,
    id_arg,
    managed_or_404,
    managed_store_ids,
    page,
)
from loyalty.blueprints.merchant.forms import AdjustForm, CardFilterForm, CardStatusForm
from loyalty.models import LoyaltyCard
from loyalty.redirects import is_htmx
from loyalty.services.engine import adjustments, cards
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.errors import DomainError
from loyalty.services.merchant import card_directory
from loyalty.services.merchant.programs import live_program
from loyalty.tenancy import current_merchant, roles_required


def _card_or_404(card_id):
    """The merchant's card; for a manager, one enrolled at a store they manage."""
    return managed_or_404(LoyaltyCard, card_id, lambda card: card.enrolled_at_store_id)


@bp.app_template_global()
def counter_times(row):
    """``("14:05", "14:40")``: when a row a tablet sent later happened at the counter, and
    when it was recorded, on the merchant's clock (with the day when it is not today)."""
    zone = str(get_timezone())
    return (clock.local_time_label(row.counter_at, zone),
            clock.local_time_label(row.transaction_at, zone))


def _context():
    return ActionContext(user_id=current_user.id, ip_address=request.remote_addr,
                         user_agent=request.user_agent.string)


@bp.route("/cards")
@roles_required(*OWNER_OR_MANAGER)
def cards_page():
    form = CardFilterForm(formdata=request.args)
    form.validate()
    filters = card_directory.CardFilters(
        query=form.q.data or "", status=form.status.data or "all", store_id=form.store.data,
        reward_ready=bool(form.ready.data), sort=form.sort.data or "activity",
        page=form.page.data or 1)
    result = card_directory.list_cards(current_merchant.id, filters, store_ids=managed_store_ids(),
                                       region=current_merchant.country)
    return page("merchant/cards.html", "merchant/_card_results.html", form=form, result=result,
                filters=filters, program=live_program(current_merchant.id),
                stores=card_directory.stores_for_filter(current_merchant.id, managed_store_ids()))


def _card_page(card, *, status_form=None, status=200):
    history = card_directory.card_history(card, before_id=id_arg("before"),
                                          offline_only=request.args.get("offline") == "1")
    return page("merchant/card.html", "merchant/_card_history.html", card=card, history=history,
                program=live_program(current_merchant.id), history_filter=True,
                status_form=status_form or CardStatusForm(formdata=None), status=status)


@bp.route("/cards/<int:card_id>")
@roles_required(*OWNER_OR_MANAGER)
def card(card_id):
    return _card_page(_card_or_404(card_id))


@bp.route("/cards/<int:card_id>/<any(deactivate, reactivate):change>", methods=["POST"])
@roles_required(*OWNER)
def card_status(card_id, change):
    item = _card_or_404(card_id)
    form = CardStatusForm()
    if not form.validate_on_submit():
        return _card_page(item, status_form=form, status=422)
    change_status = cards.reactivate_card if change == "reactivate" else cards.deactivate_card
    try:
        change_status(item, reason=form.reason.data.strip(), context=_context(), actor=actor())
    except DomainError as refusal:
        form.reason.errors.append(str(refusal.message))
        return _card_page(item, status_form=form, status=refusal.status_code)
    flash(_("The card works again.") if change == "reactivate"
          else _("The card is deactivated: the terminal refuses it until you reactivate it."),
          "success")
    return redirect(url_for("merchant.card", card_id=item.id))


@bp.route("/cards/<int:card_id>/adjust", methods=["GET", "POST"])
@roles_required(*OWNER)
def adjust_card(card_id):
    """Two steps: the owner sees the new balance, then confirms."""
    item = _card_or_404(card_id)
    form = AdjustForm() if request.method == "POST" else AdjustForm(formdata=None)
    preview = None
    status = 200
    if form.validate_on_submit():
        before, after, allowed = adjustments.adjustment_preview(item, form.delta,
                                                                field=form.field_name)
        # The confirmation names what was previewed: a changed amount, or a balance that
        # moved meanwhile, shows the new preview instead of applying.
        seen = f"{form.field_name}:{form.delta}:{before}"
        preview = {"before": before, "after": after, "allowed": allowed, "seen": seen}
        if allowed and form.confirmed.data == seen:
            adjust = adjustments.adjust_stamps if form.kind.data == "stamps" else adjustments.adjust_points
            try:
                adjust(item, form.delta, reason=form.reason.data, user=current_user,
                       context=_context(), actor=actor())
            except DomainError as refusal:
                form.amount.errors.append(str(refusal.message))
                status = refusal.status_code
            else:
                flash(_("Adjustment saved: it is in the card's history."), "success")
                return redirect(url_for("merchant.card", card_id=item.id))
    elif request.method == "POST":
        status = 422
    template = "merchant/_adjust.html" if is_htmx() else "merchant/adjust.html"
    return page(template, card=item, form=form, preview=preview, status=status)
