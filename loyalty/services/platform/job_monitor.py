"""What the background work is doing: queues, failed jobs, the outbox backlog, whether the
schedule ticks and its last runs. Read by the back office, ``flask loyalty jobs`` and
``/healthz``."""
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from croniter import croniter
from flask import current_app
from redis.exceptions import RedisError
from rq import Queue
from rq.cron import get_cron_job_ids
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from loyalty.extensions import redis_client
from loyalty.models import MAX_ID
from loyalty.services import outbox
from loyalty.services.delivery import job_recovery
from loyalty.services.errors import NotFound
from loyalty.services.outbox import NOT_FAILED


@dataclass
class FailedJob:
    ref: str  # "outbox:<id>" or "rq:<job id>": what a retry names
    what: str
    error: str
    attempts: int
    when: datetime | None


@dataclass
class Overview:
    inline: bool
    backlog: int = 0
    backlog_age_s: int = 0
    queues: list = field(default_factory=list)  # (name, queued, running, waiting to retry)
    failed: list = field(default_factory=list)
    scheduled: list = field(default_factory=list)  # (name, every, about, last run, status)
    redis_error: str | None = None
    schedule_ticked: datetime | None = None  # the schedule's last tick
    schedule_stale: bool = False  # it has not ticked for SCHEDULE_STALE_SECONDS (or ever)


def overview():
    from loyalty.jobs import QUEUES, SCHEDULE  # noqa: PLC0415 - jobs import the services

    state = Overview(inline=outbox.jobs_inline())
    state.backlog, state.backlog_age_s = outbox.backlog()
    state.failed = [FailedJob(f"outbox:{row.id}", _outbox_what(row), row.last_error or "",
                              row.attempts, row.failed_at) for row in outbox.failed()]
    if state.inline:
        return state
    connection = redis_client.connection
    try:
        for name in QUEUES:
            queue = Queue(name, connection=connection)
            state.queues.append((name, queue.count,
                                 StartedJobRegistry(queue=queue).count,
                                 ScheduledJobRegistry(queue=queue).count))
            state.failed += _failed_rq_jobs(queue)
        for name, _function, _queue, every, about in SCHEDULE:
            last, status = _last_run(name, connection)
            state.scheduled.append((name, every, about, last, status, next_run(every, last)))
        state.schedule_ticked, state.schedule_stale = _schedule_tick(connection)
    except RedisError as error:
        state.redis_error = str(error)
    state.failed.sort(key=lambda job: job.when or datetime.min.replace(tzinfo=UTC),
                      reverse=True)
    return state


def schedule_health():
    """For ``/healthz``: "ok" when the schedule ticked within ``SCHEDULE_STALE_SECONDS``,
    "stale" when it has not (or never did: no drain hands work over, no retry of a dead
    worker's job), "not configured" when jobs run inline, "unknown" when Redis does not
    answer."""
    if outbox.jobs_inline():
        return "not configured"
    try:
        _ticked, stale = _schedule_tick(redis_client.connection)
    except RedisError:
        return "unknown"
    return "stale" if stale else "ok"


def _schedule_tick(connection, now=None):
    tick, _up_since = job_recovery.schedule_heartbeat(connection)
    if tick is None:
        return None, True
    ticked = datetime.fromtimestamp(tick, UTC)
    age = ((now or datetime.now(UTC)) - ticked).total_seconds()
    return ticked, age > current_app.config["SCHEDULE_STALE_SECONDS"]


def _outbox_what(row):
    template = row.payload.get("template")
    return f"{row.kind}: {template}" if template else row.kind


def _failed_rq_jobs(queue):
    """Failed RQ jobs other than outbox deliveries (those show as their outbox rows)."""
    registry = FailedJobRegistry(queue=queue)
    ids = [job_id for job_id in registry.get_job_ids(0, 99)
           if not job_id.startswith(outbox.JOB_PREFIX)]
    failed = []
    for job in Job.fetch_many(ids, connection=queue.connection):
        if job is None:
            continue
        result = job.latest_result()
        lines = (result.exc_string or "").strip().splitlines() if result else []
        failed.append(FailedJob(f"rq:{job.id}", job.description or job.func_name,
                                lines[-1] if lines else "", len(job.results()), job.ended_at))
    return failed


def next_run(every, last, now=None):
    """When a scheduled job is due next: ``every`` seconds after its last run, or the cron
    expression's next time (UTC)."""
    now = now or datetime.now(UTC)
    if isinstance(every, int):
        return max(last + timedelta(seconds=every), now) if last else now
    return croniter(every, now).get_next(datetime)


def _last_run(name, connection):
    """When the scheduled job was last enqueued, and how that run went (if RQ still knows)."""
    ids = get_cron_job_ids(name, connection, 0, 0)
    if not ids:
        return None, None
    job = Job.fetch_many(ids, connection=connection)[0]
    if job is None:
        return None, "expired"
    status = job.get_status(refresh=False)
    return job.enqueued_at, getattr(status, "value", status)


def retry(ref):
    """An admin's retry of a failed job named by ``FailedJob.ref``."""
    kind, _, key = (ref or "").partition(":")
    if kind == "outbox" and key.isdigit() and 0 < int(key) <= MAX_ID:
        outbox.retry(int(key))
        return
    if kind == "rq" and not outbox.jobs_inline():
        try:
            job = Job.fetch(key, connection=redis_client.connection)
        except NoSuchJobError:
            job = None
        if job is not None and job.id in job.failed_job_registry:
            job.failed_job_registry.requeue(job)
            return
    raise NotFound(NOT_FAILED)
