"""Each merchant's daily run (points expiry, expiry warnings, birthday bonuses, win-back emails)
in their early morning.

An hourly job looks at every merchant's wall clock (their time zone): from ``MORNING_HOUR``
(04:00 by default) until six hours later, the merchant's run is enqueued, once that day (a
Redis key per merchant remembers it; the run itself is safe to repeat), in a batch of up to
``MORNING_BATCH`` merchants under the job id ``morning-<first merchant>-<local date>``. A schedule that was down at 04:00 starts the run at its next hour that
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
#: Merchants per morning job: a worker runs each job in a fresh process, whose first
#: statements cost more than a small merchant's whole morning, so the due merchants go in
#: batches (the platform's 2,000 mornings: 40 jobs, ``bench/platform_scale.py``).
MORNING_BATCH = 50
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
    keys = [KEY.format(merchant_id=merchant_id, day=day.isoformat()) for merchant_id, day in due]
    seen = connection.mget(keys) if keys else []
    waiting = [(merchant_id, day, key)
               for (merchant_id, day), key, value in zip(due, keys, seen, strict=True)
               if value is None]
    started = []
    for first in range(0, len(waiting), MORNING_BATCH):
        batch = waiting[first:first + MORNING_BATCH]
        ids = [merchant_id for merchant_id, _, _ in batch]
        day = batch[0][1].isoformat()
        # named after its first merchant (one batch per merchant and day, as the keys keep)
        queue.enqueue(job_function, *ids, job_id=f"morning-{ids[0]}-{day}",
                      retry=retry_policy(), job_timeout=3600,
                      description=f"morning run of merchant{'s' if len(ids) > 1 else ''} "
                                  f"{', '.join(map(str, ids))}")
        with connection.pipeline() as pipe:
            for _, _, key in batch:
                pipe.set(key, now.isoformat(), ex=timedelta(days=2))
            pipe.execute()
        started.extend(ids)
    return started


class MorningsFailed(Exception):
    """Some merchants' mornings of a batch failed (each logged): the job fails and is retried."""


def run_batch(one_morning, merchant_ids):
    """Run ``one_morning(merchant_id)`` for each merchant; a failure is logged and the next
    merchant's run goes on; raises ``MorningsFailed`` at the end if any failed. Returns the
    figures of the one merchant, or ``{merchant id: figures}``."""
    results, failed = {}, []
    for merchant_id in merchant_ids:
        try:
            results[merchant_id] = one_morning(merchant_id)
        except Exception:  # noqa: BLE001 - one merchant's failure never keeps the others waiting
            if len(merchant_ids) == 1:
                raise
            db.session.rollback()
            log.exception("The morning run of merchant %s failed", merchant_id)
            failed.append(merchant_id)
    if failed:
        raise MorningsFailed(f"the mornings of merchants {failed} failed")
    return results[merchant_ids[0]] if len(merchant_ids) == 1 else results


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
