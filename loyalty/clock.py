"""The one source of "now" for business rules, so tests and demo data can set the time."""
from contextlib import contextmanager
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, format_time
from loyalty.dates import reading_locale

_frozen = None


def now():
    """The current time, timezone-aware in UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


@contextmanager
def frozen_at(moment):
    """Pretend it is ``moment`` (aware) inside the block. Not thread-safe: tests and demo only."""
    global _frozen  # noqa: PLW0603 - the single switch tests flip
    previous, _frozen = _frozen, moment
    try:
        yield
    finally:
        _frozen = previous


def set_frozen(moment):
    """Move a frozen clock (or freeze it); ``None`` unfreezes."""
    global _frozen  # noqa: PLW0603
    _frozen = moment


def local_day_start(moment, timezone):
    """Midnight of ``moment``'s day in ``timezone``, returned in UTC."""
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    return datetime.combine(local.date(), time.min, tzinfo=zone).astimezone(UTC)


def local_date(moment, timezone):
    """``moment``'s date on the wall clock of ``timezone``."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def local_time_label(moment, timezone, locale=None):
    """``moment`` on the merchant's wall clock in the reader's language, day and month in the
    merchant's country's order: "14:05" today, "21/11 14:05" (fr, en in Luxembourg),
    "21.11. 14:05" (de), "11/21 2:05 PM" (en in the US) another day."""
    locale = locale or reading_locale()
    local = moment.astimezone(ZoneInfo(timezone))
    label = format_time(local, "short", tzinfo=local.tzinfo, locale=locale)
    if local.date() == now().astimezone(ZoneInfo(timezone)).date():
        return label
    return f"{format_skeleton('Md', local, tzinfo=local.tzinfo, locale=locale)} {label}"
