"""A ledger timestamp's local day, computed by the database on PostgreSQL and on SQLite.

A day is a number: days since 1970-01-01 on the merchant's clock. PostgreSQL converts with its
own time-zone database (``AT TIME ZONE``). SQLite has none: there the UTC offset is a ``CASE``
over the instants at which the zone's offset changes between ``start`` and ``end`` (found here
with ``zoneinfo``), so summer time is right without a branch per day.
"""
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, case, cast, func, literal, literal_column

from loyalty.extensions import db
from loyalty.models import UTCDateTime

EPOCH = date(1970, 1, 1)
DAY_SECONDS = 86400


def day_number(day):
    return (day - EPOCH).days


def day_of(number):
    return EPOCH + timedelta(days=number)


def local_midnight(timezone, day):
    """The UTC instant ``day`` begins on the merchant's clock."""
    return datetime.combine(day, time(), ZoneInfo(timezone)).astimezone(UTC)


def offset_changes(timezone, start, end):
    """``[(from this UTC instant, UTC offset in seconds)]`` covering ``start`` to ``end``."""
    zone = ZoneInfo(timezone)

    def offset(seconds):
        return int(datetime.fromtimestamp(seconds, zone).utcoffset().total_seconds())

    first, last = int(start.timestamp()), int(end.timestamp())
    changes = [(first, offset(first))]
    for moment in range(first, last, DAY_SECONDS):
        after = min(moment + DAY_SECONDS, last)
        if offset(after) != changes[-1][1]:
            low, high = moment, after  # offset(low) is the old one, offset(high) the new one
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if offset(middle) == changes[-1][1] else (low, middle)
            changes.append((high, offset(high)))
    return [(datetime.fromtimestamp(moment, UTC), seconds) for moment, seconds in changes]


def local_day(column, timezone, start, end):
    """The local day number of the UTC timestamp ``column`` (correct from ``start`` to
    ``end``), as an SQL expression."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(timezone, column), Date) - literal_column("DATE '1970-01-01'")
    changes = offset_changes(timezone, start, end)
    offset = case(*[(column >= literal(moment, UTCDateTime()), seconds)
                    for moment, seconds in reversed(changes[1:])], else_=changes[0][1]) \
        if len(changes) > 1 else literal_column(str(changes[0][1]))
    return (cast(func.strftime("%s", column), Integer) + offset) // DAY_SECONDS
