"""``flask loyalty statement --merchant SLUG --month YYYY-MM``: the liability and breakage
statement's CSV on standard output, the very file the owner's page downloads."""
import sys

import click
from flask_babel import force_locale

from loyalty.blueprints.merchant.exports import csv_separators
from loyalty.services.customers.storefront import merchant_for_slug
from loyalty.services.errors import NotFound
from loyalty.services.merchant import statement as statements
from loyalty.services.merchant import statement_csv
from loyalty.services.merchant import statement_periods as periods


@click.command("statement")
@click.option("--merchant", "slug", required=True, help="The merchant's slug.")
@click.option("--month", required=True, help="The month on the merchant's clock: YYYY-MM.")
@click.option("--language", default=None, type=click.Choice(["en", "fr", "de", "lb"]),
              help="The columns' language (and the spreadsheet's separators); by default the "
                   "merchant's.")
def statement_command(slug, month, language):
    """Print a merchant's liability and breakage statement for a month as CSV."""
    try:
        merchant = merchant_for_slug(slug)
    except NotFound:
        raise click.BadParameter(f"no merchant {slug!r}", param_hint="--merchant") from None
    try:
        period = periods.month_period(month)
    except periods.PeriodError:
        raise click.BadParameter("give the month as YYYY-MM", param_hint="--month") from None
    with force_locale(language or merchant.default_locale or "en"):
        delimiter, decimal = csv_separators()
        result = statements.statement(merchant, period)
        stream = sys.stdout.buffer
        for chunk in statement_csv.csv_chunks(result, delimiter=delimiter, decimal=decimal):
            stream.write(chunk)
        stream.flush()
