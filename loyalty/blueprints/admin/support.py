"""Support without impersonation: a platform admin reads a merchant's cards, a card and its
statistics, never changes them; every such view is recorded in the audit log."""
from flask import abort, g, request, url_for

from loyalty.blueprints.admin.base import actor, id_arg, page, page_arg
from loyalty.blueprints.admin.views import bp
from loyalty.blueprints.merchant.charts import stats_charts
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import MAX_ID, LoyaltyCard, Merchant
from loyalty.redirects import is_htmx
from loyalty.services import audit
from loyalty.services.merchant import card_directory, stats, stores
from loyalty.services.merchant.programs import live_program
from loyalty.tenancy import PLATFORM_ADMIN, roles_required

SUPPORT_LAYOUT = "admin/_support.html"


def _merchant_or_404(merchant_id):
    merchant = db.session.get(Merchant, merchant_id) if 0 < merchant_id <= MAX_ID else None
    if merchant is None:
        abort(404)
    g.page_timezone = merchant.timezone  # times on the merchant's clock, as its owner sees them
    g.page_country = merchant.country
    return merchant


def _recorded(merchant, what, label, **shown):
    """One audit entry per request: what was read, and which part of it (``shown``: the
    older rows of a card's history name the row they start before)."""
    changes = {"page": [None, what], **{name: [None, value] for name, value in shown.items()}}
    with write_transaction():
        audit.record(actor(), "support.view", merchant, merchant_id=merchant.id, label=label,
                     changes=changes)


@bp.route("/merchants/<int:merchant_id>/cards")
@roles_required(PLATFORM_ADMIN)
def support_cards(merchant_id):
    merchant = _merchant_or_404(merchant_id)
    text = request.args.get("q", "").replace("\x00", "")[:100]
    filters = card_directory.CardFilters(query=text, page=page_arg())
    result = card_directory.list_cards(merchant.id, filters, region=merchant.country)
    _recorded(merchant, "cards", merchant.name)
    return page("admin/support_cards.html", merchant=merchant, result=result, q=text,
                program=live_program(merchant.id))


@bp.route("/merchants/<int:merchant_id>/cards/<int:card_id>")
@roles_required(PLATFORM_ADMIN)
def support_card(merchant_id, card_id):
    merchant = _merchant_or_404(merchant_id)
    card = db.session.get(LoyaltyCard, card_id) if 0 < card_id <= MAX_ID else None
    if card is None or card.merchant_id != merchant.id:
        abort(404)
    before = id_arg("before")
    history = card_directory.card_history(card, before_id=before)
    values = dict(card=card, history=history, card_endpoint="admin.support_card",
                  card_args={"merchant_id": merchant.id, "card_id": card.id})
    # Every page of the history is recorded, the "Older" rows too.
    _recorded(merchant, "card", card.card_number, **({"before": before} if before else {}))
    if is_htmx():  # "Older": the next rows of the history only
        return page("merchant/_card_history.html", **values)
    return page("merchant/card.html", layout=SUPPORT_LAYOUT, merchant=merchant,
                program=live_program(merchant.id), is_owner=False,
                cards_url=url_for("admin.support_cards", merchant_id=merchant.id), **values)


@bp.route("/merchants/<int:merchant_id>/statistics")
@roles_required(PLATFORM_ADMIN)
def support_stats(merchant_id):
    merchant = _merchant_or_404(merchant_id)
    all_stores = stores.stores_of(merchant.id)
    chosen = request.args.get("store", type=int)
    if chosen is not None and chosen not in {store.id for store in all_stores}:
        abort(404)
    program = live_program(merchant.id)
    figures = stats.merchant_stats(merchant, program, store_ids=[chosen] if chosen else None)
    charts = stats_charts(figures, program)
    _recorded(merchant, "statistics", merchant.name)
    return page("merchant/stats.html", layout=SUPPORT_LAYOUT, merchant=merchant, stats=figures,
                program=program, charts=charts, stores=all_stores, chosen=chosen,
                store_names={store.id: store.name for store in all_stores})
