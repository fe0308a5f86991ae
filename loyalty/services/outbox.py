"""The outbox: work a change asks for, written in the change's own transaction, done once.

``add`` writes a row beside the change. Once that transaction commits, the rows are handed
over at once: run right there when jobs run inline (no Redis, the embedded default), else
enqueued on RQ under the job id ``outbox-<id>``. If Redis is down, the request still succeeds
and the rows wait; the drain (``drain``, every few seconds on the schedule) hands over what is
pending, and again what RQ lost or a dead worker left behind.

A job delivers its row under the row's lock: the handler's effect (its own row, keyed by the
outbox id, such as a ``sent_emails`` row) and ``delivered_at`` commit together, so a row
enqueued or run twice has its effect once. A failing job is retried with backoff; after the
last attempt the row is failed (error, attempts, when) until an admin retries it.
"""
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import event, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from loyalty import clock, logs
from loyalty.database import AFTER_COMMIT_HOOKS, write_transaction
from loyalty.extensions import db, redis_client
from loyalty.models import OutboxMessage
from loyalty.services.errors import NotFound

log = logging.getLogger(__name__)

#: kind -> function(row) doing the work; registered by the modules that own each kind.
HANDLERS = {}
QUEUES = {"email": "email", "wallet": "wallet", "wallet_program": "wallet",
          "webhook": "webhooks"}
JOB_PREFIX = "outbox-"
#: The RQ job that delivers a row, by name: the jobs import the services, not the reverse.
DELIVER_JOB = "loyalty.jobs.outbox.deliver_outbox"
NOT_FAILED = _l("This job is no longer failed: it was retried already or has run.")
DRAIN_BATCH = 500
_NEW, _READY = "loyalty_outbox_new", "loyalty_outbox_ready"
#: RQ states in which a job will still run by itself: the drain leaves those alone.
_WILL_RUN = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
_GAVE_UP = {JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}
#: Payload keys only the job needs, not kept once it is done: a set-password link's secret,
#: an address someone typed to have their card looked up.
PRIVATE_PAYLOAD = {"secret", "lookup"}


def handler(kind):
    """Register the function that does the work of outbox rows of ``kind``."""
    def register(function):
        HANDLERS[kind] = function
        return function
    return register


def add(kind, payload, *, merchant_id=None):
    """Write the work into the current transaction; it is handed over once that commits."""
    if kind not in HANDLERS:
        raise ValueError(f"no outbox handler for {kind!r}")
    session = db.session()
    row = OutboxMessage(kind=kind, queue=QUEUES.get(kind, "default"), payload=payload,
                        merchant_id=merchant_id, created_at=clock.now())
    session.add(row)
    session.flush()
    session.info.setdefault(_NEW, []).append((row.id, row.queue))
    return row


def add_many(kind, payloads, *, merchant_id=None):
    """Many rows of one kind in one statement; returns their ids."""
    if kind not in HANDLERS:
        raise ValueError(f"no outbox handler for {kind!r}")
    if not payloads:
        return []
    now, queue = clock.now(), QUEUES.get(kind, "default")
    ids = db.session.scalars(
        insert(OutboxMessage).returning(OutboxMessage.id),
        [{"kind": kind, "queue": queue, "payload": payload, "merchant_id": merchant_id,
          "created_at": now, "attempts": 0} for payload in payloads]).all()
    db.session().info.setdefault(_NEW, []).extend((outbox_id, queue) for outbox_id in ids)
    return ids


def add_later(kind, payload, *, merchant_id=None):
    """Write the work into the current transaction as one INSERT and nothing more: it is not
    handed over when that commits (no enqueue, no ``enqueued_at`` update) but by the next
    drain, a few seconds later. For work a hot path asks for at the cost of one statement
    (the fraud checks after a counter action)."""
    if kind not in HANDLERS:
        raise ValueError(f"no outbox handler for {kind!r}")
    with db.session.no_autoflush:
        db.session.execute(_LATER, dict(
            kind=kind, queue=QUEUES.get(kind, "default"), payload=payload,
            merchant_id=merchant_id, created_at=clock.now(), attempts=0))


#: ``add_later``'s INSERT, built once (its values are bound on each call).
_LATER = insert(OutboxMessage.__table__).inline()  # its id is not needed: no RETURNING


@event.listens_for(Session, "after_commit")
def _committed(session):
    new = session.info.pop(_NEW, None)
    if new:
        session.info.setdefault(_READY, []).extend(new)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session):
    session.info.pop(_NEW, None)


def dispatch_committed():
    """Hand over the rows the session's commits produced (after ``write_transaction`` and at
    the end of a request). Never raises: the change is committed and its rows are safe; what
    cannot be handed over now waits for the drain."""
    session = db.session()
    rows = session.info.pop(_READY, None)
    if not rows:
        return
    if jobs_inline():
        for outbox_id, queue in rows:
            run_inline(outbox_id, queue)
        return
    try:
        _enqueue(rows)
    except RedisError as error:
        log.warning("Redis unavailable (%s): %d outbox rows wait for the drain", error, len(rows))
        return
    except Exception:  # noqa: BLE001 - the change stands; the drain hands the rows over
        log.exception("could not hand over %d outbox rows; the drain will", len(rows))
        return
    try:
        with write_transaction():
            _mark_enqueued([outbox_id for outbox_id, _queue in rows])
    except Exception:  # noqa: BLE001 - enqueued already; the drain only hands them over again
        log.exception("could not note %d outbox rows as enqueued", len(rows))


def jobs_inline():
    return current_app.config["JOBS_INLINE"] or redis_client.connection is None


def run_inline(outbox_id, queue):
    """Deliver now, in this process, logged as its job would be; a failure is recorded on the
    row (admins retry it)."""
    try:
        with logs.job_run(job_id(outbox_id), DELIVER_JOB, queue, logs.current_request_id()):
            deliver(outbox_id)
    except Exception:  # noqa: BLE001 - recorded on the row; the caller's change stands
        log.exception("outbox row %s failed", outbox_id)


def retry_policy():
    delays = current_app.config["JOB_RETRY_DELAYS"]
    return Retry(max=len(delays), interval=delays) if delays else None


def job_id(outbox_id):
    return f"{JOB_PREFIX}{outbox_id}"


def _enqueue(rows):
    """Put ``(id, queue)`` rows on RQ in one round trip."""
    connection = redis_client.connection
    delays = current_app.config["OUTBOX_DELAYS"]
    with connection.pipeline() as pipeline:
        for outbox_id, queue in rows:
            options = {"job_id": job_id(outbox_id), "retry": retry_policy(),
                       "description": f"outbox {outbox_id}", "pipeline": pipeline,
                       "meta": logs.job_meta()}  # the request it comes from, for its log
            target = Queue(queue, connection=connection)
            if delays.get(queue):  # a burst of changes can finish: one job does them all
                target.enqueue_in(timedelta(seconds=delays[queue]), DELIVER_JOB, outbox_id,
                                  **options)
            else:
                target.enqueue(DELIVER_JOB, outbox_id, **options)
        pipeline.execute()
    return len(rows)


def _mark_enqueued(ids):
    """Note when rows were handed over, in the current write transaction."""
    if ids:
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                           .values(enqueued_at=clock.now())
                           .execution_options(synchronize_session=False))


@dataclass
class Effect:
    """What a handler does for a row: ``record(row)`` writes its effect in the database
    (committed with ``delivered_at``); ``send()``, if any, is the effect outside it (an SMTP
    conversation), run between two short transactions so that no lock waits on the network."""

    record: Callable
    send: Callable | None = None


def deliver(outbox_id, *, last_attempt=True):
    """Do the row's work once: its effect and ``delivered_at`` commit together, under the
    row's lock. Returns False when there was nothing left to do (delivered already, or gone)."""
    try:
        with write_transaction():
            row = _locked(outbox_id)
            if row is None or row.delivered_at is not None:
                return False
            effect = HANDLERS[row.kind](row)
            if effect.send is None:
                _delivered(row, effect)
                return True
        effect.send()
        with write_transaction():
            row = _locked(outbox_id)
            if row.delivered_at is not None:  # another run of it finished meanwhile
                log.warning("outbox row %s was delivered twice", outbox_id)
                return True
            _delivered(row, effect)
        return True
    except Exception as error:
        _record_failure(outbox_id, error, last_attempt)
        raise


def _locked(outbox_id):
    return db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.id == outbox_id).with_for_update()
        .execution_options(populate_existing=True))


def _delivered(row, effect):
    effect.record(row)
    row.payload = {key: value for key, value in row.payload.items()
                   if key not in PRIVATE_PAYLOAD}
    row.attempts += 1
    row.delivered_at = clock.now()
    row.failed_at = None
    row.last_error = None


def _record_failure(outbox_id, error, last_attempt):
    values = {"attempts": OutboxMessage.attempts + 1,
              "last_error": f"{type(error).__name__}: {error}"[:2000]}
    if last_attempt:
        values["failed_at"] = clock.now()
    with write_transaction():
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, OutboxMessage.delivered_at.is_(None))
            .values(**values)
            .execution_options(synchronize_session=False))
    loaded = db.session.identity_map.get(identity_key(OutboxMessage, outbox_id))
    if loaded is not None:
        db.session.expire(loaded)


def drain(limit=DRAIN_BATCH):
    """Hand RQ the rows still pending, then again the rows it has held too long without a
    result (Redis lost them, or their worker died and RQ gave up). Returns how many."""
    if jobs_inline():
        return _drain_inline(limit)
    M = OutboxMessage
    open_rows = select(M.id, M.queue).where(M.delivered_at.is_(None), M.failed_at.is_(None))
    with write_transaction():
        pending = db.session.execute(open_rows.where(M.enqueued_at.is_(None)).order_by(M.id)
                                     .limit(limit).with_for_update(skip_locked=True)).all()
        if pending:
            _enqueue(pending)
            _mark_enqueued([row.id for row in pending])
    stale = clock.now() - timedelta(seconds=current_app.config["OUTBOX_REDELIVER_SECONDS"])
    with write_transaction():
        held = db.session.execute(open_rows.where(M.enqueued_at < stale).order_by(M.id)
                                  .limit(limit).with_for_update(skip_locked=True)).all()
        lost = _lost(held)
        if lost:
            _enqueue(lost)
        # Every row looked at leaves the window: still on RQ, handed over again, or failed.
        _mark_enqueued([row.id for row in held])
    return len(pending) + len(lost)


def _lost(rows):
    """Of rows RQ had for long, those it will not run: missing, or finished without the
    row delivered. Rows whose job RQ gave up on are marked failed here."""
    if not rows:
        return []
    jobs = Job.fetch_many([job_id(row.id) for row in rows], connection=redis_client.connection)
    lost = []
    for row, job in zip(rows, jobs, strict=True):
        status = job.get_status(refresh=False) if job is not None else None
        if status in _WILL_RUN:
            continue
        if status in _GAVE_UP:
            result = job.latest_result()
            error = (result.exc_string or "").strip().splitlines()[-1:] if result else []
            db.session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
                failed_at=clock.now(), last_error=(error[0] if error else str(status))[:2000])
                .execution_options(synchronize_session=False))
            continue
        lost.append((row.id, row.queue))
    return lost


def _drain_inline(limit):
    rows = db.session.execute(select(OutboxMessage.id, OutboxMessage.queue).where(
        OutboxMessage.delivered_at.is_(None), OutboxMessage.failed_at.is_(None))
        .order_by(OutboxMessage.id).limit(limit)).all()
    db.session.commit()
    for outbox_id, queue in rows:
        run_inline(outbox_id, queue)
    return len(rows)


def retry(outbox_id):
    """An admin's retry of a failed row: run now (inline), or on its queue with its retries."""
    with write_transaction():
        opened = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, OutboxMessage.failed_at.is_not(None))
            .values(failed_at=None, enqueued_at=None)
            .execution_options(synchronize_session=False)).rowcount
    if not opened:
        raise NotFound(NOT_FAILED)
    row = db.session.execute(select(OutboxMessage.id, OutboxMessage.queue)
                             .where(OutboxMessage.id == outbox_id)).one()
    db.session.commit()
    if jobs_inline():
        run_inline(*row)
        return
    _forget_failed_job(outbox_id)
    try:
        _enqueue([tuple(row)])
    except RedisError:
        return  # pending again: the drain hands it over once Redis is back
    with write_transaction():
        _mark_enqueued([outbox_id])


def _forget_failed_job(outbox_id):
    try:
        job = Job.fetch(job_id(outbox_id), connection=redis_client.connection)
    except NoSuchJobError:
        return
    except RedisError:
        return
    job.failed_job_registry.remove(job)


def backlog():
    """Open rows: how many, and the age in seconds of the oldest (0 when none)."""
    count, oldest = db.session.execute(
        select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.failed_at.is_(None))).one()
    age = (clock.now() - oldest).total_seconds() if oldest else 0
    return count, max(0, round(age))


def failed(limit=100):
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.failed_at.is_not(None))
                              .order_by(OutboxMessage.failed_at.desc()).limit(limit)).all()


AFTER_COMMIT_HOOKS.append(dispatch_committed)
