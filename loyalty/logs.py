"""One log line per request and per job: who, which route, how it ended, how long it took.

A request's line names its route as the URL map has it (``/card/<secret>``, never the path
that was asked for), the redacted path ``access_log`` wrote for the access log, the method,
the status, the signed-in user and the merchant they act for (or an API key's merchant), and
the request's id. The id is the caller's ``X-Request-ID`` when it is one (1 to 128 of
``A-Z a-z 0-9 . _ -``: anything else could forge a log line or hide another), else a new one;
the response carries it back, and every job the request queues keeps it in its ``meta``, so
the job's own line (function, queue, job id, status, duration) names the request it came
from. A job queued by a job carries the same id on. No line holds a form, a header, a body
or a URL's values: no password, PIN, card secret, API key or email text can reach the log.

``LOG_FORMAT`` chooses how lines are written on standard error: ``json`` (one object per
line, production's default) or ``text`` (readable lines, development's default).
"""
import json
import logging
import re
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import g, has_app_context, request
from flask.logging import default_handler
from sqlalchemy import inspect

from loyalty.access_log import LOGGED_TARGET

REQUEST_ID_HEADER = "X-Request-ID"
#: The key of a job's ``meta`` that holds the id of the request that queued it.
REQUEST_ID_META = "request_id"
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
#: The logger every line of the app goes through: the handler is installed here.
APP_LOGGER = "loyalty"
FORMATS = ("json", "text")
request_log = logging.getLogger("loyalty.requests")
job_log = logging.getLogger("loyalty.jobs.runs")


def init_app(app):
    """Register the request hooks first (so the clock starts before any other hook runs and
    the line is written after every other one), and the output unless under test."""
    if app.config["LOG_FORMAT"] not in FORMATS:
        raise RuntimeError(f"LOG_FORMAT must be json or text, not {app.config['LOG_FORMAT']!r}.")
    app.before_request(start_request)
    app.after_request(log_request)
    if not app.config["TESTING"]:
        install_handler(app.config["LOG_FORMAT"])


def request_id_from(header):
    """The caller's request id when it is a valid one, else a new one."""
    if header and VALID_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def current_request_id():
    """The id of the request (or of the request that queued the job) being served, if any."""
    return g.get("request_id") if has_app_context() else None


def job_meta():
    """What a job enqueued now keeps: the id of the request it comes from."""
    request_id = current_request_id()
    return {REQUEST_ID_META: request_id} if request_id else {}


def start_request():
    g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    g.request_started = time.perf_counter()


def log_request(response):
    request_id = g.get("request_id") or request_id_from(None)
    response.headers[REQUEST_ID_HEADER] = request_id
    started = g.get("request_started")
    duration = (time.perf_counter() - started) * 1000 if started else None
    target = request.environ.get(LOGGED_TARGET) or "-"
    rule = request.url_rule
    route = rule.rule if rule is not None else target.partition("?")[0]
    fields = {
        "event": "request", "request_id": request_id, "method": request.method,
        "route": route, "endpoint": request.endpoint, "path": target,
        "status": response.status_code,
        "duration_ms": round(duration, 1) if duration is not None else None,
        "user_id": _user_id(g.get("_login_user")),  # as Flask-Login loaded it, if it did
        "merchant_id": _merchant_id(),
    }
    request_log.info("%s %s %s %s ms", request.method, route, response.status_code,
                     fields["duration_ms"], extra={"fields": fields})
    return response


def _user_id(user):
    """The signed-in user's id: a plain ``SignedInUser``'s, or a row's from its identity (an
    instance a commit expired is not loaded again for the log)."""
    if user is None or not user.is_authenticated:
        return None
    state = inspect(user, raiseerr=False)
    if state is None:
        return user.id
    return state.identity[0] if state.identity else None


def _merchant_id():
    """The merchant the request acted for, as far as it was looked up already."""
    if "tenancy" in g:
        return g.tenancy.merchant_id
    caller = g.get("caller")  # an API key's
    return getattr(caller, "merchant_id", None)


@contextmanager
def job_run(job_id, function, queue, request_id, *, routine=False):
    """Log one line for a job once it ends: run in the job's own app context, it also makes
    ``request_id`` the context's, so what the job enqueues carries it on. A ``routine`` run
    (the schedule's, in the web process without Redis: a drain every few seconds) that
    finishes is logged at DEBUG, so development's console keeps to what people do."""
    g.request_id = request_id
    started = time.perf_counter()
    error = None
    try:
        yield
    except BaseException as raised:
        error = type(raised).__name__
        raise
    finally:
        status = "failed" if error else "finished"
        fields = {"event": "job", "job_id": job_id, "function": function, "queue": queue,
                  "request_id": request_id, "status": status,
                  "duration_ms": round((time.perf_counter() - started) * 1000, 1)}
        if error:
            fields["error"] = error  # its type only: a message may quote an address or a body
        level = logging.WARNING if error else logging.DEBUG if routine else logging.INFO
        job_log.log(level, "job %s %s %s %s ms",
                    function, job_id or "inline", status, fields["duration_ms"],
                    extra={"fields": fields})


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, then the line's fields."""

    def format(self, record):
        line = {"time": datetime.fromtimestamp(record.created, UTC)
                .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "level": record.levelname, "logger": record.name,
                "message": record.getMessage()}
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """A readable line: time, level, logger, message, then the ids worth searching for."""

    SHOWN = ("request_id", "user_id", "merchant_id", "queue", "error")

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record):  # noqa: N802 - logging's name
        line = super().formatMessage(record)
        fields = getattr(record, "fields", {})
        shown = [f"{name}={fields[name]}" for name in self.SHOWN
                 if fields.get(name) is not None]
        return " ".join([line, *shown])


def formatter(log_format):
    return JSONFormatter() if log_format == "json" else TextFormatter()


class StandardErrorHandler(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is when a line is written, not when the handler was
    made (a test, a CLI runner, may swap it meanwhile)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def install_handler(log_format):
    """Write the app's lines (``loyalty`` and below) to standard error in ``log_format``,
    from INFO up; a second app in the process replaces the first's handler."""
    logger = logging.getLogger(APP_LOGGER)
    for old in [handler for handler in logger.handlers
                if isinstance(handler, StandardErrorHandler) or handler is default_handler]:
        logger.removeHandler(old)
    handler = StandardErrorHandler()
    handler.setFormatter(formatter(log_format))
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    return handler
