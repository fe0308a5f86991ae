"""The liability and breakage statement in the back office: one merchant's (as its owner sees
it) and the platform's, every merchant's summed per currency."""
from flask import abort, request, url_for
from flask_babel import gettext as _

from loyalty.blueprints.admin.base import page
from loyalty.blueprints.admin.views import bp
from loyalty.blueprints.merchant.statement import chosen_period, csv_response, filename, shown
from loyalty.extensions import db
from loyalty.models import MAX_ID, Merchant
from loyalty.services.merchant import statement as statements
from loyalty.services.merchant import statement_csv
from loyalty.tenancy import PLATFORM_ADMIN, roles_required

PLATFORM_ZONE = "UTC"


def _merchant(record_id):
    merchant = db.session.get(Merchant, record_id) if 0 < record_id <= MAX_ID else None
    if merchant is None:
        abort(404)
    return merchant


@bp.route("/merchants/<int:record_id>/statement")
@roles_required(PLATFORM_ADMIN)
def merchant_statement(record_id):
    merchant = _merchant(record_id)
    period, typed, error = chosen_period(merchant.timezone)
    values = {"layout": "admin/_layout.html", "typed": typed, "error": error,
              "heading": _("Statement of %(merchant)s", merchant=merchant.name)}
    if error:
        return page("merchant/statement.html", status=422, result=None, **values)
    result = statements.statement(merchant, period)
    csv_url = url_for("admin.merchant_statement_csv", record_id=record_id,
                      **request.args.to_dict())
    return page("merchant/statement.html", **values, **shown(result, csv_url))


@bp.route("/merchants/<int:record_id>/statement.csv")
@roles_required(PLATFORM_ADMIN)
def merchant_statement_csv(record_id):
    merchant = _merchant(record_id)
    period, typed, error = chosen_period(merchant.timezone)
    if error:
        return page("merchant/statement.html", status=422, result=None, typed=typed,
                    error=error, layout="admin/_layout.html")
    return csv_response(statements.statement(merchant, period), filename(merchant.slug, period))


@bp.route("/statement")
@roles_required(PLATFORM_ADMIN)
def platform_statement():
    period, typed, error = chosen_period(PLATFORM_ZONE)
    totals = {} if error else statements.platform_totals(period)
    return page("admin/statement.html", status=422 if error else 200, typed=typed, error=error,
                period=None if error else period, totals=totals,
                line_labels=statement_csv.line_labels())
