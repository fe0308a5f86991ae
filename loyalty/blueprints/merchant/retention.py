"""Retention: whether members come back, as a page and as CSV (owners; managers for their
stores, as the statistics)."""
from flask import request
from flask_babel import format_date, format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from loyalty import clock
from loyalty.blueprints.merchant.base import OWNER_OR_MANAGER, bp, managed_store_ids, page
from loyalty.blueprints.merchant.charts import bar_chart
from loyalty.blueprints.merchant.exports import _csv, csv_separators
from loyalty.forms import Form, WholeNumberField
from loyalty.services.merchant import retention, retention_snapshots
from loyalty.tenancy import current_merchant, roles_required


class RegularsForm(Form):
    """Who counts as a regular who stopped coming; read from the query string."""

    class Meta:
        csrf = False

    min_visits = WholeNumberField(_l("At least this many visits"), min=2, max=1000,
                                  message=_l("Enter a whole number of visits from 2 to 1000."))
    away_days = WholeNumberField(_l("No visit for more than (days)"), min=1, max=365,
                                 message=_l("Enter a whole number of days from 1 to 365."))


def _figures():
    form = RegularsForm(formdata=request.args)
    form.validate()
    min_visits = form.min_visits.data if form.min_visits.data and not form.min_visits.errors else 5
    away_days = form.away_days.data if form.away_days.data and not form.away_days.errors else 60
    form.min_visits.data, form.away_days.data = min_visits, away_days
    figures = retention_snapshots.figures_for(current_merchant, managed_store_ids(),
                                              min_visits, away_days)
    return form, figures


def as_of(figures):
    """What the figures are up to and when they were computed, on the page and in the CSV."""
    return _("Figures up to the end of yesterday (%(day)s), computed at %(time)s.",
             day=format_date(figures.up_to, "long"), time=format_time(figures.computed_at, "short"))


def _month(start):
    return format_date(start, "MMM yyyy")


@bp.route("/retention")
@roles_required(*OWNER_OR_MANAGER)
def retention_page():
    form, figures = _figures()
    chart = bar_chart(_("Visits per active member, per month"),
                      [month.per_active for month in figures.months],
                      [format_date(month.start, "MMM yy") for month in figures.months])
    return page("merchant/retention.html", form=form, figures=figures, chart=chart, month=_month,
                as_of=as_of(figures),
                status=422 if form.errors else 200)


@bp.route("/retention.csv")
@roles_required(*OWNER_OR_MANAGER)
def retention_csv():
    _form, figures = _figures()
    decimal = csv_separators()[1]

    def number(value):
        return "" if value is None else str(value).replace(".", decimal)

    after = retention.MONTHS + 1
    header = [_("Figure"), _("Value"), *[""] * after]
    rows = [
        (as_of(figures),),
        (),
        (_("Second visit within 30 days of joining (%)"), number(figures.repeat_rate(30))),
        (_("Second visit within 90 days of joining (%)"), number(figures.repeat_rate(90))),
        (_("Median days between visits"), number(figures.median_gap_days)),
        (_("Rewards per 100 visits"), number(figures.rewards_per_100_visits)),
        (_("Regulars who stopped coming"), figures.regulars_total),
        (),
        (_("Month"), _("Visits"), _("Active members"), _("Visits per active member")),
        *[(_month(m.start), m.visits, m.active, number(m.per_active)) for m in figures.months],
        (),
        (_("Joined in"), _("Members"),
         *[_("Month %(number)d (%%)", number=n) for n in range(after)]),
        *[(_month(c.start), c.joined, *[number(c.share(n)) for n in range(after)])
          for c in figures.cohorts],
    ]
    return _csv(f"retention-{format_date(clock.now(), 'yyyy-MM-dd')}.csv", header, rows)
