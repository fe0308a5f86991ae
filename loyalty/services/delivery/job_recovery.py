"""Work a dead process left behind goes back on its queue, and the schedule says it is alive.

Every few seconds the drain (``loyalty.jobs.outbox.drain_outbox``) calls ``recover``:

- a job a worker started, but whose worker has not said it is alive for
  ``WORKER_LOST_AFTER_SECONDS`` (a busy worker says so every ``WORKER_HEARTBEAT_SECONDS``),
  was left by a dead worker: it goes back on its queue at once, as one of its retries (RQ
  itself would notice only at a worker's maintenance, up to ten minutes later);
- retries whose time has come move from RQ's scheduled registry onto their queues, for each
  queue no live RQ scheduler holds: a retry never waits for a scheduler process that died.

The schedule records each tick in Redis (``note_tick``); the health check and the back office
read it (``schedule_heartbeat``), and it tells ``recover`` since when Redis has answered: a
worker cut off from Redis by an outage is silent too, but not dead.
"""
import logging
import time
from uuid import uuid4

from flask import current_app
from rq import Queue
from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from rq.scheduler import RQScheduler
from rq.scripts import acquire_or_refresh_lock, release_lock

from loyalty.extensions import redis_client

log = logging.getLogger(__name__)

SCHEDULE_KEY = "loyalty:schedule"
#: How long the drain may hold a queue's scheduler lock if it dies holding it.
_LOCK_SECONDS = 60


def note_tick(connection, *, back=False, at=None):
    """Record that the schedule ticked (now, or ``at``, in epoch seconds). ``back``: it had
    just started, or Redis had not answered it; Redis has answered since then."""
    at = time.time() if at is None else at
    with connection.pipeline() as pipeline:
        pipeline.hset(SCHEDULE_KEY, "tick", at)
        if back:
            pipeline.hset(SCHEDULE_KEY, "up_since", at)
        else:  # Redis restarted between two ticks, without its data: answering since now
            pipeline.hsetnx(SCHEDULE_KEY, "up_since", at)
        pipeline.execute()


def schedule_heartbeat(connection):
    """The schedule's last tick and since when Redis has answered it, in epoch seconds (None
    when it never ticked)."""
    tick, up_since = connection.hmget(SCHEDULE_KEY, "tick", "up_since")
    return (float(tick) if tick else None), (float(up_since) if up_since else None)


def recover():
    """Put back on their queues the jobs of dead workers and the retries that are due; returns
    how many of each. Raises RedisError when Redis does not answer."""
    connection = redis_client.connection
    queues = Queue.all(connection=connection)
    lost_after = current_app.config["WORKER_LOST_AFTER_SECONDS"]
    return requeue_abandoned(connection, queues, lost_after), enqueue_due_retries(connection,
                                                                                  queues)


def requeue_abandoned(connection, queues, lost_after, now=None):
    """Started jobs whose worker has not said it is alive for ``lost_after`` seconds: back on
    their queue at once when they have a retry left (it is used up), else failed as RQ fails
    an abandoned job. Judged only once the schedule has seen Redis answer for that long.
    Returns the ids of the jobs put back."""
    now = time.time() if now is None else now
    cutoff = now - lost_after
    _tick, up_since = schedule_heartbeat(connection)
    if up_since is None or up_since > cutoff:
        return []
    requeued = []
    for queue in queues:
        registry = StartedJobRegistry(queue=queue)
        entries = registry.get_job_and_execution_ids(cleanup=False)
        if not entries:
            continue
        with connection.pipeline() as pipeline:
            for job_id, execution_id in entries:
                pipeline.hget(Execution(execution_id, job_id, connection).key, "last_heartbeat")
            beats = pipeline.execute()
        silent = [entry for entry, beat in zip(entries, beats, strict=True)
                  if beat is None or float(beat) < cutoff]
        failed = False
        for job_id, execution_id in silent:
            outcome = _put_back(connection, queue, registry, job_id, f"{job_id}:{execution_id}")
            if outcome == "requeued":
                requeued.append(job_id)
            failed = failed or outcome == "failed"
        if failed:
            registry.cleanup(timestamp=0)  # RQ's own handling of what expired: failed
    return requeued


def _put_back(connection, queue, registry, job_id, entry):
    job = Job.fetch_many([job_id], connection=connection)[0]
    if job is None or job.get_status(refresh=False) != JobStatus.STARTED:
        connection.zrem(registry.key, entry)  # ended or gone: nothing to run again
        return None
    if not job.retries_left:
        # Marked expired: the registry's cleanup fails it with AbandonedJobError.
        connection.zadd(registry.key, {entry: 0}, xx=True)
        log.warning("job %s: its worker stopped answering and it has no retry left: failed",
                    job_id)
        return "failed"
    if not connection.zrem(registry.key, entry):
        return None  # another drain put it back already
    job.retries_left -= 1
    queue.enqueue_job(job)
    log.warning("job %s: its worker stopped answering; back on queue %s (%d retries left)",
                job_id, queue.name, job.retries_left)
    return "requeued"


def enqueue_due_retries(connection, queues):
    """Move the scheduled jobs (retries) whose time has come onto their queues, for each queue
    whose RQ scheduler lock is free (a live scheduler does this every second); returns how
    many."""
    owner = f"loyalty-drain-{uuid4().hex}"
    moved = 0
    for queue in queues:
        lock = RQScheduler.get_locking_key(queue.name)
        if acquire_or_refresh_lock(connection, lock, owner, _LOCK_SECONDS) != "acquired":
            continue
        try:
            registry = ScheduledJobRegistry(queue=queue)
            due = registry.get_jobs_to_schedule()
            if not due:
                continue
            with connection.pipeline() as pipeline:
                for job in Job.fetch_many(due, connection=connection):
                    if job is not None:
                        queue.enqueue_job(job, pipeline=pipeline)
                for job_id in due:
                    registry.remove(job_id, pipeline=pipeline)
                pipeline.execute()
            moved += len(due)
        finally:
            release_lock(connection, lock, owner)
    return moved
