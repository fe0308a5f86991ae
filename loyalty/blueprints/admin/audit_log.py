"""The audit log of the whole platform: searchable, side by side old and new values, and
exportable as CSV."""
import json
from datetime import date

from flask import Response, request, stream_with_context
from flask_babel import gettext as _

from loyalty.blueprints.admin.base import id_arg, page
from loyalty.blueprints.admin.views import bp
from loyalty.blueprints.merchant.exports import csv_separators
from loyalty.services import audit
from loyalty.services.merchant import exports
from loyalty.tenancy import PLATFORM_ADMIN, roles_required


def _day(name):
    try:
        value = date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None
    return value if 2000 <= value.year <= 2100 else None


def _filters():
    def text(name):
        return request.args.get(name, "").replace("\x00", "").strip()[:120]

    return audit.LogFilters(actor=text("actor"), merchant=text("merchant"),
                            action=text("action"), first_day=_day("from"), last_day=_day("to"))


@bp.route("/audit")
@roles_required(PLATFORM_ADMIN)
def audit_log():
    filters = _filters()
    rows, next_before = audit.search_log(filters, before_id=id_arg("before"))
    return page("admin/audit.html", rows=rows, next_before=next_before, filters=filters)


@bp.route("/audit.csv")
@roles_required(PLATFORM_ADMIN)
def audit_csv():
    delimiter, _decimal = csv_separators()
    header = [_("When (UTC)"), _("Who"), _("Merchant"), _("Action"), _("Record"),
              _("Record id"), _("Changes (old, new)"), _("Client address")]
    rows = ((entry.created_at.strftime("%Y-%m-%d %H:%M:%S"),
             actor_email or "", merchant_name or "", entry.action,
             entry.target_label or entry.target_type, entry.target_id or "",
             json.dumps(entry.changes, ensure_ascii=False, default=str),
             entry.ip_address or "")
            for entry, _name, actor_email, merchant_name in audit.log_rows(_filters()))
    return Response(stream_with_context(exports.csv_chunks(header, rows, delimiter=delimiter)),
                    mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'})
