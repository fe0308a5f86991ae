"""Every job runs in an app context of its own, so in its own database session.

``worker.py`` builds the app once and pushes its context; a job then opens a fresh context of
that app (a worker that runs jobs in its own process starts each job with a new session). Run
by a plain ``rq worker`` instead, the first job builds the app. Each run writes one log line
(``logs.job_run``) with the id of the request that queued it, kept in the job's ``meta``.
"""
import functools

from flask import current_app, has_app_context
from rq import get_current_job

from loyalty import logs

_app = None


def _worker_app():
    global _app  # noqa: PLW0603 - one app per worker process, built on first use
    if _app is None:
        from loyalty import create_app  # noqa: PLC0415 - only without worker.py

        _app = create_app()
    return _app


def job(function):
    """Decorate an RQ job function: it runs in a fresh app context, and its run is logged
    (called directly, as jobs run without Redis, under the caller's request id if any)."""
    name = f"{function.__module__}.{function.__qualname__}"

    @functools.wraps(function)
    def run(*args, **kwargs):
        app = current_app._get_current_object() if has_app_context() else _worker_app()
        queued = get_current_job()
        if queued is not None:
            where = (queued.id, queued.origin, queued.meta.get(logs.REQUEST_ID_META))
        else:
            where = (None, None, logs.current_request_id())
        job_id, queue, request_id = where
        routine = queued is None and request_id is None  # the schedule's, without Redis
        with app.app_context(), logs.job_run(job_id, name, queue, request_id, routine=routine):
            return function(*args, **kwargs)
    return run
