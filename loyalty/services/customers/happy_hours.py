"""The happy hours the public program page shows: those running now and those coming in the
next days, on the merchant's clock, at which stores (what customers may see: no owner's
name for it, no paused one)."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from loyalty import clock
from loyalty.extensions import db
from loyalty.models import Store
from loyalty.services.engine.happy_hours import UPCOMING_DAYS, kinds_of, schedule
from loyalty.services.engine.merchant_cache import merchant_rows

#: At most this many happy hours are listed.
MOST_SHOWN = 6


@dataclass(frozen=True)
class PublicHappyHour:
    kind: str
    factor: int | None
    extra_stamps: int | None
    starts_at: datetime  # aware, on the merchant's clock
    ends_at: datetime
    running: bool
    #: The stores it applies at by name, or None for every store.
    stores: tuple | None


def public_happy_hours(merchant, now=None):
    """Running and upcoming happy hours (the next ``UPCOMING_DAYS`` days), soonest first,
    each once: while it runs, with its end; else its next window."""
    rows = merchant_rows(merchant.id)
    kinds = kinds_of(rows.program)
    windows = [window for window in rows.happy_hours if window.kind in kinds]
    if not windows:
        return []
    now = now or clock.now()
    found, seen = [], set()
    for window, start, end in schedule(windows, now, merchant.timezone, days=UPCOMING_DAYS):
        if window.id not in seen:  # each happy hour once: running now, else its next window
            seen.add(window.id)
            found.append((window, start, end))
    found = found[:MOST_SHOWN]
    store_ids = {store for window, _s, _e in found for store in window.store_ids or ()}
    names = dict(db.session.execute(select(Store.id, Store.name).where(
        Store.merchant_id == merchant.id, Store.id.in_(store_ids),
        Store.is_active.is_(True))).all()) if store_ids else {}
    shown = []
    for window, start, end in found:
        stores = None if window.store_ids is None else tuple(
            sorted(names[store] for store in window.store_ids if store in names))
        if stores == ():
            continue  # only at closed stores
        shown.append(PublicHappyHour(window.kind, window.factor, window.extra_stamps, start, end,
                                     start <= now.astimezone(start.tzinfo) < end, stores))
    return shown
