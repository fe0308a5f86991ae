"""The statement's lines as a person reads them, and as CSV (the exports' house style: the
user's language, ";" and "12,50" in French, German and Luxembourgish, every cell guarded by
``exports.safe_cell``).

Shared by the owner's page, the back office and ``flask loyalty statement``, so the CSV a
command prints is the one the page downloads."""
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from loyalty.services.merchant import exports
from loyalty.services.merchant.statement import (
    ADJUSTED_DOWN,
    ADJUSTED_UP,
    ERASED,
    EXPIRED,
    ISSUED,
    POINTS,
    REDEEMED,
    VOIDED,
)


def line_labels():
    """(key, label) of each line of the statement, in order."""
    return [("opening", _("Opening balance")), (ISSUED, _("Issued")),
            (REDEEMED, _("Redeemed")), (VOIDED, _("Voided and reward undos")),
            (EXPIRED, _("Expired")), (ADJUSTED_UP, _("Adjusted up")),
            (ADJUSTED_DOWN, _("Adjusted down")), (ERASED, _("Forfeited on data erasure")),
            ("closing", _("Closing balance"))]


def unit_label(unit):
    return _("Points") if unit == POINTS else _("Stamps")


def rounding_rule(currency):
    return _("Amounts in %(currency)s, to the cent: balances are rounded half up from their "
             "exact value; each movement is the change in the rounded running total, so "
             "opening balance plus movements equals closing balance.", currency=currency)


class Number:
    """A number written with the spreadsheet's decimal mark: not text, so no formula guard
    (it is digits, a sign and a mark, never a formula)."""

    def __init__(self, text):
        self.text = text

    def __str__(self):
        return self.text


def amount(cents, decimal="."):
    value = (Decimal(cents) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return Number(f"{value:.2f}".replace(".", decimal))


def rate(fraction, decimal="."):
    """A rate as a percentage with one decimal (half up)."""
    value = (Decimal(fraction.numerator) * 100 / Decimal(fraction.denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP)
    return Number(f"{value:.1f}".replace(".", decimal))


def csv_header(statement):
    currency = statement.currency
    header = [_("Line")]
    for line in statement.lines:
        header += [unit_label(line.unit),
                   _("%(unit)s (%(currency)s)", unit=unit_label(line.unit), currency=currency)]
    return header + [_("Total (%(currency)s)", currency=currency)]


def csv_rows(statement, decimal="."):
    """The table, then the breakage and the liability, then who, when and how."""
    totals = statement.total_cents
    for key, label in line_labels():
        row = [label]
        for line in statement.lines:
            row += [line.units[key], amount(line.cents[key], decimal)]
        yield row + [amount(totals[key], decimal)]
    row = [_("Breakage rate observed over the last 12 months (%)")]
    for line in statement.lines:
        row += [rate(line.breakage_rate, decimal), ""]
    yield row + [""]
    row = [_("Liability net of expected breakage")]
    for line in statement.lines:
        row += ["", amount(line.net_liability_cents, decimal)]
    yield row + [amount(statement.net_liability_cents, decimal)]
    yield []
    for label, value in details(statement):
        yield [label, value]


def details(statement):
    period = statement.period
    return [(_("Merchant"), statement.merchant.name),
            (_("Period"), _("%(first)s to %(last)s", first=period.first_day.isoformat(),
                            last=period.last_day.isoformat())),
            (_("Time zone"), statement.merchant.timezone),
            (_("Currency"), statement.currency),
            (_("Generated at"), generated_at(statement)),
            (_("Rounding"), rounding_rule(statement.currency)),
            (_("Values"), _("The program's current point and stamp values, for the whole "
                            "period."))]


def generated_at(statement):
    """When, on the merchant's clock."""
    zone = ZoneInfo(statement.merchant.timezone)
    return statement.generated_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def csv_chunks(statement, *, delimiter=",", decimal="."):
    return exports.csv_chunks(csv_header(statement), csv_rows(statement, decimal),
                              delimiter=delimiter)
