"""Every job runs in an app context of its own, so in its own database session.

``worker.py`` builds the app once and pushes its context; a job then opens a fresh context of
that app (a worker that runs jobs in its own process starts each job with a new session). Run
by a plain ``rq worker`` instead, the first job builds the app.
"""
import functools

from flask import current_app, has_app_context

_app = None


def _worker_app():
    global _app  # noqa: PLW0603 - one app per worker process, built on first use
    if _app is None:
        from loyalty import create_app  # noqa: PLC0415 - only without worker.py

        _app = create_app()
    return _app


def job(function):
    """Decorate an RQ job function: it runs in a fresh app context."""
    @functools.wraps(function)
    def run(*args, **kwargs):
        app = current_app._get_current_object() if has_app_context() else _worker_app()
        with app.app_context():
            return function(*args, **kwargs)
    return run
