"""Background jobs: thin functions that call services. ``enqueue`` runs them on RQ or inline."""
from flask import current_app
from rq import Queue

from loyalty.extensions import redis_client
from loyalty.jobs.points import expire_points_job

QUEUES = ("default",)


def enqueue(func, *args, job_id=None, queue="default", **kwargs):
    """Run ``func`` on an RQ worker, or right now when jobs run inline (no Redis)."""
    if current_app.config["JOBS_INLINE"] or redis_client.connection is None:
        return func(*args, **kwargs)
    return Queue(queue, connection=redis_client.connection).enqueue(
        func, *args, job_id=job_id, **kwargs
    )


def schedule(cron_scheduler):
    """Register the recurring jobs: points expiry every night at 03:15 UTC."""
    cron_scheduler.register(expire_points_job, queue_name="default", cron="15 3 * * *")
    return cron_scheduler
