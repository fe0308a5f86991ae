"""Happy hours as the counter reads them: the merchant's live ones ride with its cached rows
(``merchant_cache.MerchantRows.happy_hours``, plain frozen values), so an action at a merchant
without any pays no query, and one with some pays none while the merchant's version holds.

A happy hour runs on its weekdays, from ``start_time`` (included) to ``end_time`` (excluded)
on the merchant's wall clock that day (``merchants.timezone``, with its summer time), from
``starts_on`` to ``ends_on`` (both included), at all stores or the listed ones. A window never
crosses midnight (the owner schedules a second one from 00:00). When several run at once they
do not stack: the largest applies (points: the highest factor; stamps: the most extra stamps),
ties to the one created first.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from loyalty.extensions import db
from loyalty.models import HappyHour
from loyalty.models.happy_hours import happy_hour_stores

#: How far ahead the customers' program page looks for the next windows.
UPCOMING_DAYS = 7


@dataclass(frozen=True)
class HappyHourWindow:
    id: int
    name: str
    kind: str  # "points" or "stamps"
    factor: int | None
    extra_stamps: int | None
    weekdays: int
    start_time: time
    end_time: time
    starts_on: date
    ends_on: date | None
    #: None: every store of the merchant; else the ids of the stores it applies at.
    store_ids: frozenset | None

    @property
    def strength(self):
        return self.factor if self.kind == "points" else self.extra_stamps

    def applies_at(self, store_id):
        return self.store_ids is None or store_id in self.store_ids

    def runs_on(self, day):
        return (bool(self.weekdays & (1 << day.weekday())) and self.starts_on <= day
                and (self.ends_on is None or day <= self.ends_on))

    def is_running(self, local):
        """Does it run at ``local`` (an aware datetime on the merchant's clock)?"""
        return self.runs_on(local.date()) and self.start_time <= local.time() < self.end_time

    def window_on(self, day, zone):
        """(start, end) of the window on ``day``, aware on ``zone``'s clock."""
        return (datetime.combine(day, self.start_time, tzinfo=zone),
                datetime.combine(day, self.end_time, tzinfo=zone))


@dataclass(frozen=True)
class Running:
    """A happy hour running now, and when its window ends (aware, merchant's clock)."""

    window: HappyHourWindow
    ends_at: datetime

    @property
    def id(self):
        return self.window.id

    @property
    def kind(self):
        return self.window.kind

    @property
    def factor(self):
        return self.window.factor

    @property
    def extra_stamps(self):
        return self.window.extra_stamps


def load_windows(merchant_id, today=None):
    """The merchant's active happy hours not ended yet, as plain values (one query, and one
    more for the stores of those limited to some)."""
    query = (select(HappyHour)
             .where(HappyHour.merchant_id == merchant_id, HappyHour.is_active.is_(True))
             .order_by(HappyHour.id))
    if today is not None:
        query = query.where(or_(HappyHour.ends_on.is_(None), HappyHour.ends_on >= today))
    rows = db.session.execute(
        query.with_only_columns(
            HappyHour.id, HappyHour.name, HappyHour.kind, HappyHour.factor,
            HappyHour.extra_stamps, HappyHour.weekdays, HappyHour.start_time,
            HappyHour.end_time, HappyHour.starts_on, HappyHour.ends_on, HappyHour.all_stores)
    ).all()
    limited = [row.id for row in rows if not row.all_stores]
    stores = {}
    if limited:
        for hour_id, store_id in db.session.execute(
                select(happy_hour_stores.c.happy_hour_id, happy_hour_stores.c.store_id)
                .where(happy_hour_stores.c.happy_hour_id.in_(limited))):
            stores.setdefault(hour_id, set()).add(store_id)
    return tuple(
        HappyHourWindow(row.id, row.name, row.kind, row.factor, row.extra_stamps, row.weekdays,
                        row.start_time, row.end_time, row.starts_on, row.ends_on,
                        None if row.all_stores else frozenset(stores.get(row.id, ())))
        for row in rows)


def running_happy_hour(windows, kind, store_id, at, timezone):
    """The happy hour of ``kind`` running at ``at`` (aware) at ``store_id``, or None: the
    largest of those running (they do not stack)."""
    candidates = [w for w in windows if w.kind == kind and w.applies_at(store_id)]
    if not candidates:
        return None
    zone = ZoneInfo(timezone)
    local = at.astimezone(zone)
    running = [w for w in candidates if w.is_running(local)]
    if not running:
        return None
    best = max(running, key=lambda w: (w.strength, -w.id))
    return Running(best, best.window_on(local.date(), zone)[1])


def for_action(rows, kind, store_id, at, timezone_of):
    """What an action of ``kind`` at ``at`` gets: the running happy hour or None.
    ``timezone_of()`` is called only when the merchant has happy hours of that kind."""
    if not any(w.kind == kind for w in rows.happy_hours):
        return None
    return running_happy_hour(rows.happy_hours, kind, store_id, at, timezone_of())


def kinds_of(program):
    """The kinds of happy hour ``program`` can apply (none without a program)."""
    if program is None:
        return ()
    return tuple(kind for kind, used in (("points", program.has_points),
                                         ("stamps", program.has_stamps)) if used)


def running_now(rows, store_id, at, timezone):
    """The happy hours running at ``at`` at ``store_id``, one per kind the merchant's program
    uses (``rows``: its ``MerchantRows``), for the card panel."""
    if not rows.happy_hours:
        return []
    found = (running_happy_hour(rows.happy_hours, kind, store_id, at, timezone)
             for kind in kinds_of(rows.program))
    return [hour for hour in found if hour is not None]


def schedule(windows, at, timezone, days=UPCOMING_DAYS):
    """The windows running at ``at`` and those starting within ``days`` days, each as
    ``(window, start, end)`` (aware, merchant's clock), soonest first; one window per day."""
    zone = ZoneInfo(timezone)
    local = at.astimezone(zone)
    found = []
    for offset in range(days + 1):
        day = local.date() + timedelta(days=offset)
        for window in windows:
            if not window.runs_on(day):
                continue
            start, end = window.window_on(day, zone)
            if end > local:
                found.append((window, start, end))
    return sorted(found, key=lambda item: (item[1], item[0].id))
