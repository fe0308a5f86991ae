"""Statistics of the program: figures, a table per store and 30-day charts."""
from flask import abort, request

from loyalty.blueprints.merchant.base import OWNER_OR_MANAGER, bp, managed_store_ids, page
from loyalty.blueprints.merchant.charts import stats_charts
from loyalty.services.merchant import stats, stores
from loyalty.services.merchant.programs import live_program
from loyalty.tenancy import current_merchant, roles_required


@bp.route("/stats")
@roles_required(*OWNER_OR_MANAGER)
def stats_page():
    managed = managed_store_ids()
    all_stores = stores.stores_of(current_merchant.id, managed)
    chosen = request.args.get("store", type=int)
    if chosen is not None and chosen not in {store.id for store in all_stores}:
        abort(404)
    scope = [chosen] if chosen else managed
    program = live_program(current_merchant.id)
    figures = stats.merchant_stats(current_merchant, program, store_ids=scope)
    charts = stats_charts(figures, program)
    return page("merchant/stats.html", stats=figures, program=program, charts=charts,
                stores=all_stores, store_names={store.id: store.name for store in all_stores},
                chosen=chosen)
