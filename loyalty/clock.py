"""The one source of "now" for business rules, so tests and demo data can set the time."""
from contextlib import contextmanager
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

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


def local_time_label(moment, timezone):
    """``moment`` as the merchant's wall-clock time, e.g. "14:05" (or "21/11 14:05" another day)."""
    local = moment.astimezone(ZoneInfo(timezone))
    today = now().astimezone(ZoneInfo(timezone)).date()
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%d/%m %H:%M")
