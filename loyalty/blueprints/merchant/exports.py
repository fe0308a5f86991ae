"""CSV exports of transactions and cards, streamed row by row."""
from flask import Response, abort, request, stream_with_context
from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from loyalty import clock
from loyalty.blueprints.merchant.base import OWNER_OR_MANAGER, bp, managed_store_ids, page
from loyalty.blueprints.merchant.forms import ExportForm
from loyalty.blueprints.terminal.messages import transaction_label
from loyalty.services.merchant import exports, stores
from loyalty.services.merchant.programs import live_program
from loyalty.services.merchant.texts import merchant_reward_names
from loyalty.tenancy import current_merchant, roles_required


def _export_form():
    form = ExportForm(formdata=request.args)
    form.validate()
    return form


def _scope(form):
    """The stores to export: the chosen one (if the person may see it), else all of theirs."""
    managed = managed_store_ids()
    if form.store.data:
        if managed is not None and form.store.data not in managed:
            abort(404)
        return [form.store.data]
    return managed


#: Spreadsheets in French and German (and so Luxembourgish) settings split columns on ";" and
#: read "12,50" as a number; English ones use "," and "12.50".
DECIMAL_COMMA = ("fr", "de", "lb")


def csv_separators():
    """(column separator, decimal mark) a spreadsheet in the user's language reads."""
    return (";", ",") if str(get_locale()) in DECIMAL_COMMA else (",", ".")


def _csv(filename, header, rows):
    delimiter, _decimal = csv_separators()
    response = Response(stream_with_context(exports.csv_chunks(header, rows, delimiter=delimiter)),
                        mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/exports")
@roles_required(*OWNER_OR_MANAGER)
def exports_page():
    form = _export_form()
    return page("merchant/exports.html", form=form,
                stores=stores.stores_of(current_merchant.id, managed_store_ids()))


@bp.route("/exports/transactions.csv")
@roles_required(*OWNER_OR_MANAGER)
def export_transactions():
    form = _export_form()
    if form.errors:
        return page("merchant/exports.html", form=form, status=422,
                    stores=stores.stores_of(current_merchant.id, managed_store_ids()))
    header = [_("Date and time"), _("What"), _("Reward"), _("Store"), _("Staff"),
              _("Card number"), _("Customer"), _("Stamps"), _("Points"),
              _("Purchase amount (%(currency)s)", currency=current_merchant.currency),
              _("Order reference"), _("Note"), _("At the counter, without connection")]
    rows = exports.transaction_rows(current_merchant, first_day=form.first_day.day,
                                    last_day=form.last_day.day, store_ids=_scope(form),
                                    decimal=csv_separators()[1], locale=str(get_locale()),
                                    reward_names=merchant_reward_names(
                                        current_merchant.id, live_program(current_merchant.id)))
    labelled = ((when, transaction_label(kind), *rest) for when, kind, *rest in rows)
    return _csv(f"transactions-{format_date(clock.now(), 'yyyy-MM-dd')}.csv", header, labelled)


@bp.route("/exports/cards.csv")
@roles_required(*OWNER_OR_MANAGER)
def export_cards():
    form = _export_form()
    header = [_("Card number"), _("Customer"), _("Email"), _("Phone"), _("Enrolled"),
              _("Enrolled at"), _("Active"), _("Stamps"), _("Points"), _("Points earned in all"),
              _("Rewards given"), _("Last activity")]
    rows = exports.card_rows(current_merchant, store_ids=_scope(form))
    return _csv(f"cards-{format_date(clock.now(), 'yyyy-MM-dd')}.csv", header, rows)
