"""Happy hours (owner): schedule, change, pause and delete the multipliers the counter
applies (``services/engine/happy_hours.py`` reads them), each change in the audit trail.

A window runs from its start (included) to its end (excluded) on the same day of the
merchant's clock: one past midnight is refused with a message saying to schedule the part
after midnight as a second happy hour from 00:00.
"""
from datetime import date, time
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from loyalty import clock
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import HAPPY_HOUR_KINDS, HappyHour, Merchant, Store, soft_delete
from loyalty.services import audit
from loyalty.services.engine.happy_hours import load_windows, schedule
from loyalty.services.errors import InvalidInput

NAME_MAX = 80
FACTORS = range(2, 11)
EXTRA_STAMPS = range(1, 11)
#: What the audit trail records of a happy hour, as plain values.
AUDITED = ("name", "kind", "factor", "extra_stamps", "weekdays", "start_time", "end_time",
           "starts_on", "ends_on", "all_stores", "store_ids", "is_active")


def _refuse(message, field):
    raise InvalidInput(message, field=field)


def _clean(merchant, values):
    """The values to save, or InvalidInput naming the field (the form checks the same)."""
    name = (values.get("name") or "").strip()
    if not name:
        _refuse(_l("Give the happy hour a name, such as “Double points on Tuesday afternoons”."),
                "name")
    if len(name) > NAME_MAX:
        _refuse(_l("The name is too long (80 characters at most)."), "name")
    kind = values.get("kind")
    if kind not in HAPPY_HOUR_KINDS:
        _refuse(_l("Choose what the happy hour gives: more points or more stamps."), "kind")
    factor = extra = None
    if kind == "points":
        factor = values.get("factor")
        if not isinstance(factor, int) or factor not in FACTORS:
            _refuse(_l("Choose a multiplier between 2 and 10."), "factor")
    else:
        extra = values.get("extra_stamps")
        if not isinstance(extra, int) or extra not in EXTRA_STAMPS:
            _refuse(_l("Choose between 1 and 10 extra stamps per visit."), "extra_stamps")
    weekdays = sorted(set(values.get("weekdays") or ()))
    if not weekdays or any(not isinstance(d, int) or not 0 <= d <= 6 for d in weekdays):
        _refuse(_l("Tick at least one day of the week."), "weekdays")
    start, end = values.get("start_time"), values.get("end_time")
    if not isinstance(start, time):
        _refuse(_l("Enter the start time, like 14:00."), "start_time")
    if not isinstance(end, time):
        _refuse(_l("Enter the end time, like 17:00."), "end_time")
    if end <= start:
        _refuse(_l("The end must be after the start, on the same day. For an evening that goes "
                   "past midnight, schedule a second happy hour from 00:00."), "end_time")
    starts_on, ends_on = values.get("starts_on"), values.get("ends_on")
    if not isinstance(starts_on, date):
        _refuse(_l("Enter the first day, like 2026-11-21."), "starts_on")
    if ends_on is not None and ends_on < starts_on:
        _refuse(_l("The last day cannot be before the first day."), "ends_on")
    all_stores = bool(values.get("all_stores"))
    stores = []
    if not all_stores:
        wanted = set(values.get("store_ids") or ())
        stores = db.session.scalars(select(Store).where(
            Store.merchant_id == merchant.id, Store.id.in_(wanted))).all() if wanted else []
        if not stores or len(stores) != len(wanted):
            _refuse(_l("Tick the stores where it applies, or choose all stores."), "store_ids")
    return {"name": name, "kind": kind, "factor": factor, "extra_stamps": extra,
            "weekdays": sum(1 << d for d in weekdays), "start_time": start, "end_time": end,
            "starts_on": starts_on, "ends_on": ends_on, "all_stores": all_stores,
            "is_active": bool(values.get("is_active", True))}, stores


def _plain(hour):
    """The audited values of ``hour`` (times and days as text)."""
    values = {name: getattr(hour, name) for name in AUDITED if name != "store_ids"}
    values["store_ids"] = sorted(store.id for store in hour.stores)
    return {name: value.isoformat(timespec="minutes") if isinstance(value, time)
            else value.isoformat() if isinstance(value, date) else value
            for name, value in values.items()}


def happy_hours_of(merchant_id):
    """The merchant's happy hours (paused ones too), newest first."""
    return db.session.scalars(select(HappyHour).where(HappyHour.merchant_id == merchant_id)
                              .order_by(HappyHour.starts_on.desc(), HappyHour.id.desc())).all()


def create_happy_hour(merchant, *, actor=None, **values):
    values, stores = _clean(merchant, values)
    with write_transaction():
        hour = HappyHour(merchant_id=merchant.id, **values)
        hour.stores = stores
        db.session.add(hour)
        db.session.flush()
        audit.record(actor, "happy_hour.create", hour, merchant_id=merchant.id, label=hour.name,
                     changes={name: [None, value] for name, value in _plain(hour).items()
                              if value not in (None, [])})
    return hour


def update_happy_hour(hour, *, actor=None, **values):
    values, stores = _clean(hour_merchant(hour), values)
    with write_transaction():
        before = _plain(hour)
        for name, value in values.items():
            setattr(hour, name, value)
        hour.stores = stores
        after = _plain(hour)
        changes = {name: [before[name], after[name]] for name in AUDITED
                   if before[name] != after[name]}
        if changes:
            audit.record(actor, "happy_hour.update", hour, merchant_id=hour.merchant_id,
                         label=hour.name, changes=changes)
    return hour


def delete_happy_hour(hour, *, actor=None, by=None):
    """Soft delete: the ledger rows it multiplied still name it."""
    with write_transaction():
        soft_delete(hour, by)
        audit.record(actor, "happy_hour.delete", hour, merchant_id=hour.merchant_id,
                     label=hour.name)


def hour_merchant(hour):
    return db.session.get(Merchant, hour.merchant_id)


def owner_lists(merchant):
    """The owner's page: ``(running now, upcoming, past or paused)`` of the merchant's happy
    hours, each list of HappyHour rows."""
    hours = happy_hours_of(merchant.id)
    now = clock.now()
    windows = {w.id: w for w in load_windows(merchant.id)}
    today = clock.local_date(now, merchant.timezone)
    local = now.astimezone(ZoneInfo(merchant.timezone))
    running_ids = {w.id for w in windows.values() if w.is_running(local)}
    coming = {window.id for window, _start, _end in
              schedule(list(windows.values()), now, merchant.timezone, days=366)}
    running, upcoming, past = [], [], []
    for hour in hours:
        if hour.id in running_ids:
            running.append(hour)
        elif hour.is_active and (hour.id in coming or hour.starts_on > today):
            upcoming.append(hour)
        else:
            past.append(hour)
    return running, upcoming, past


def weekday_list(hour):
    return [day for day in range(7) if hour.weekdays & (1 << day)]


__all__ = ["create_happy_hour", "delete_happy_hour", "happy_hours_of",
           "owner_lists", "update_happy_hour", "weekday_list"]
