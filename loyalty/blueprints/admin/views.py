"""The platform back office: its blueprint, the dashboard and the programs."""
from flask import Blueprint, request
from flask_babel import format_date
from flask_babel import gettext as _

from loyalty.blueprints.admin.base import page, page_arg
from loyalty.blueprints.merchant.charts import bar_chart
from loyalty.services.platform import stats as platform_stats
from loyalty.tenancy import PLATFORM_ADMIN, roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@roles_required(PLATFORM_ADMIN)
def index():
    board = platform_stats.dashboard()
    labels = [format_date(day, "d MMM") for day, _rows, _points in board.days]
    charts = [bar_chart(_("Transactions per day"), [rows for _d, rows, _p in board.days], labels),
              bar_chart(_("Points given per day"), [points for _d, _r, points in board.days],
                        labels)]
    return page("admin/index.html", board=board, charts=charts)


@bp.route("/programs")
@roles_required(PLATFORM_ADMIN)
def programs():
    filters = platform_stats.ProgramFilters(
        query=request.args.get("q", ""), program_type=request.args.get("type", ""),
        active=request.args.get("active", ""), sort=request.args.get("sort", "merchant"),
        page=page_arg())
    rows, current, has_next = platform_stats.program_list(filters)
    return page("admin/programs.html", rows=rows, filters=filters, page_number=current,
                has_next=has_next, sorts=platform_stats.PROGRAM_SORTS)
