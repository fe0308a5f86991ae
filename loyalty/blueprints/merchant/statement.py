"""The liability and breakage statement: the owner's page and its CSV (owners only: it is
the books). The back office shows the same for a merchant and for the platform."""
from flask import Response, request, stream_with_context, url_for
from flask_babel import gettext as _

from loyalty.blueprints.merchant.base import OWNER, bp, page
from loyalty.blueprints.merchant.exports import csv_separators
from loyalty.services.merchant import statement as statements
from loyalty.services.merchant import statement_csv
from loyalty.services.merchant import statement_periods as periods
from loyalty.tenancy import current_merchant, roles_required


def period_messages():
    return {"month": _("Give the month as year and month, for example 2026-03."),
            "dates": _("Give both dates as year, month and day, for example 2026-03-31."),
            "order": _("The last day comes before the first day."),
            "length": _("Choose a period of at most ten years.")}


def chosen_period(timezone):
    """(period, typed values, error message) from ``?month=`` or ``?from=&to=`` (both days
    included); the last closed month when neither is given."""
    args = request.args
    typed = {"month": args.get("month", "")[:20], "from": args.get("from", "")[:20],
             "to": args.get("to", "")[:20]}
    try:
        if typed["from"] or typed["to"]:
            return periods.range_period(typed["from"], typed["to"]), typed, None
        if typed["month"]:
            return periods.month_period(typed["month"]), typed, None
    except periods.PeriodError as error:
        return periods.last_closed_month(timezone), typed, period_messages()[str(error)]
    period = periods.last_closed_month(timezone)
    typed["month"] = period.first_day.strftime("%Y-%m")
    return period, typed, None


def shown(result, csv_url):
    """What the statement's templates need besides ``result``."""
    if result is None:
        return {"result": None}
    return {"result": result, "csv_url": csv_url, "unit_label": statement_csv.unit_label,
            "line_labels": statement_csv.line_labels(),
            "rounding_rule": statement_csv.rounding_rule(result.currency),
            "generated_at": statement_csv.generated_at(result)}


def csv_response(result, filename):
    delimiter, decimal = csv_separators()
    response = Response(stream_with_context(
        statement_csv.csv_chunks(result, delimiter=delimiter, decimal=decimal)),
        mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def filename(slug, period):
    first, last = period.first_day.isoformat(), period.last_day.isoformat()
    label = period.first_day.strftime("%Y-%m") if period.is_month else f"{first}_{last}"
    return f"statement-{slug}-{label}.csv"


@bp.route("/statement")
@roles_required(*OWNER)
def statement_page():
    period, typed, error = chosen_period(current_merchant.timezone)
    if error:
        return page("merchant/statement.html", typed=typed, error=error, result=None, status=422)
    result = statements.statement(current_merchant, period)
    csv_url = url_for("merchant.statement_csv_download", **request.args.to_dict())
    return page("merchant/statement.html", typed=typed, error=None, **shown(result, csv_url))


@bp.route("/statement.csv")
@roles_required(*OWNER)
def statement_csv_download():
    period, typed, error = chosen_period(current_merchant.timezone)
    if error:
        return page("merchant/statement.html", typed=typed, error=error, result=None, status=422)
    result = statements.statement(current_merchant, period)
    return csv_response(result, filename(current_merchant.slug, period))
