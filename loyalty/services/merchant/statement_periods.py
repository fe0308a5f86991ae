"""The statement's periods: a month ``YYYY-MM`` or a range of days, [first day, end day) on
the merchant's clock, read from what a person typed (``PeriodError`` names what was wrong)."""
import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from loyalty import clock

MAX_DAYS = 3700
FIRST_YEAR, LAST_YEAR = 2000, 2100


class PeriodError(ValueError):
    """A period that cannot be read: the message says what to type."""


@dataclass(frozen=True)
class Period:
    first_day: date
    end_day: date  # exclusive

    @property
    def last_day(self):
        return date.fromordinal(self.end_day.toordinal() - 1)

    @property
    def is_month(self):
        return self.first_day.day == 1 and self.end_day == add_months(self.first_day, 1)

    def bounds(self, timezone):
        zone = ZoneInfo(timezone)
        return tuple(datetime.combine(day, time(), zone).astimezone(UTC)
                     for day in (self.first_day, self.end_day))


def add_months(day, months):
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return day.replace(year=year, month=month + 1,
                       day=min(day.day, calendar.monthrange(year, month + 1)[1]))


def month_period(text):
    """``YYYY-MM`` as the month's period, or PeriodError."""
    try:
        year, month = (int(part) for part in text.strip().split("-"))
        first = date(year, month, 1)
    except (ValueError, TypeError, AttributeError):
        raise PeriodError("month") from None
    if not FIRST_YEAR <= year <= LAST_YEAR or len(text.strip()) != 7:
        raise PeriodError("month")
    return Period(first, add_months(first, 1))


def range_period(first_text, last_text):
    """From the first day to the last day, both included (ISO dates), or PeriodError."""
    try:
        first, last = date.fromisoformat(first_text.strip()), date.fromisoformat(last_text.strip())
    except (ValueError, TypeError, AttributeError):
        raise PeriodError("dates") from None
    if not (FIRST_YEAR <= first.year <= LAST_YEAR and FIRST_YEAR <= last.year <= LAST_YEAR):
        raise PeriodError("dates")
    if last < first:
        raise PeriodError("order")
    if (last - first).days >= MAX_DAYS:
        raise PeriodError("length")
    return Period(first, date.fromordinal(last.toordinal() + 1))


def last_closed_month(timezone, now=None):
    today = (now or clock.now()).astimezone(ZoneInfo(timezone)).date()
    first = add_months(today.replace(day=1), -1)
    return Period(first, add_months(first, 1))
