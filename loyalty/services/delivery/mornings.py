"""Each merchant's daily run (points expiry, expiry warnings, birthday bonuses, win-back emails)
in their early morning.

An hourly job looks at every merchant's wall clock (their time zone): from ``MORNING_HOUR``
(04:00 by default) until six hours later, the merchant's run is enqueued under the job id
``morning-<merchant>-<local date>``, once that day (a Redis key remembers it; the run itself
is safe to repeat). A schedule that was down at 04:00 starts the run at its next hour that
morning; never in the middle of the shop's day. Without Redis (the embedded default's schedule
runs in the web process, ``jobs.inline_schedule``) the run happens there and then, and the
process remembers it.
"""
import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from rq import Queue
from sqlalchemy import select

from loyalty import clock
from loyalty.extensions import db, redis_client
from loyalty.models import Merchant
from loyalty.services.outbox import jobs_inline, retry_policy

log = logging.getLogger(__name__)

KEY = "loyalty:morning:{merchant_id}:{day}"


MORNING_HOURS = 6
#: Without Redis: the mornings this process has run, ``(merchant id, local date)``. A restart
#: may run a morning twice, which changes nothing (expiry and warnings each happen once).
_ran_inline = set()


def mornings_due(now, merchants, hour):
    """``(merchant id, local date)`` of the merchants whose local time is in their morning:
    ``hour`` o'clock or up to six hours later."""
    due = []
    for merchant_id, timezone in merchants:
        local = now.astimezone(ZoneInfo(timezone))
        if hour <= local.hour < hour + MORNING_HOURS:
            due.append((merchant_id, local.date()))
    return due


def start_due_mornings(job_function, now=None):
    """Enqueue today's run of each merchant whose morning has come and who has not had it
    (without Redis: run it now, in this process)."""
    now = now or clock.now()
    merchants = db.session.execute(select(Merchant.id, Merchant.timezone)).all()
    db.session.commit()
    due = mornings_due(now, merchants, current_app.config["MORNING_HOUR"])
    if jobs_inline():
        return _run_inline(job_function, due)
    connection = redis_client.connection
    queue = Queue("default", connection=connection)
    started = []
    for merchant_id, day in due:
        key = KEY.format(merchant_id=merchant_id, day=day.isoformat())
        if connection.exists(key):
            continue
        queue.enqueue(job_function, merchant_id, job_id=f"morning-{merchant_id}-{day.isoformat()}",
                      retry=retry_policy(), job_timeout=3600,
                      description=f"morning run of merchant {merchant_id}")
        connection.set(key, now.isoformat(), ex=timedelta(days=2))
        started.append(merchant_id)
    return started


def _run_inline(job_function, due):
    started = []
    for merchant_id, day in due:
        if (merchant_id, day) in _ran_inline:
            continue
        _ran_inline.add((merchant_id, day))
        try:
            job_function(merchant_id)
        except Exception:  # noqa: BLE001 - one merchant's failure never keeps the others waiting
            log.exception("The morning run of merchant %s failed", merchant_id)
        started.append(merchant_id)
    return started
