"""Prometheus metrics: what the platform counts, and how one scrape reads it.

The counters live here, in the foundation, so the engine and every area increment them with
one line where the thing happens; the figures read at scrape time (the outbox backlog, the
queues) are collected by ``services/platform/health.py``, and ``blueprints/ops.py`` serves
``/metrics`` behind its token.

Two modes, chosen by the environment when this module is imported:

- one process (``make run``, the tests): the values live in this process's registry;
- several processes (``PROMETHEUS_MULTIPROC_DIR`` set, as the systemd units do for gunicorn
  and the workers): each process writes its values to a file of its own in that directory
  and a scrape adds them up (``prometheus_client.multiprocess``). The directory must be
  empty when the processes start (a tmpfs under ``/run`` is) and shared by every process
  whose counts ``/metrics`` should show: the emails, pushes and webhooks are counted in the
  RQ workers.
"""
import os
import time

from flask import g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from sqlalchemy import event
from sqlalchemy.orm import Session

MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
CONTENT_TYPE = CONTENT_TYPE_LATEST
#: The process that built the app (a gunicorn worker, an RQ worker's main process).
_app_process = {"pid": None}


def _process_identifier():
    """The name of this process's files. An RQ worker runs each job in a fork of itself (its
    work horse), one after the other: the horses of one worker share one file instead of
    leaving one per job behind. Any other process (a gunicorn worker) has its own."""
    pid, app_pid = os.getpid(), _app_process["pid"]
    if app_pid is not None and pid != app_pid and "RQ_WORKER_ID" in os.environ:
        return f"horse-of-{app_pid}"
    return pid


if MULTIPROCESS_DIR:
    # Before any metric below is made: their values are files named by this identifier.
    values.ValueClass = values.MultiProcessValue(_process_identifier)

# --- HTTP --------------------------------------------------------------------------------

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
HTTP_REQUESTS = Counter(
    "loyalty_http_requests", "HTTP requests answered, by blueprint, method and status code.",
    ["blueprint", "method", "status"])
HTTP_DURATION = Histogram(
    "loyalty_http_request_duration_seconds",
    "Time from the request reaching the app to its response, by blueprint and method.",
    ["blueprint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

# --- the ledger --------------------------------------------------------------------------

LEDGER_ROWS = Counter(
    "loyalty_ledger_rows", "Ledger rows written and committed, by kind (transaction type).",
    ["kind"])
_PENDING_LEDGER = "loyalty_metrics_ledger_rows"

# --- work done in the background ---------------------------------------------------------

EMAILS = Counter("loyalty_emails", "Emails handed to SMTP (sent) or refused by it (failed).",
                 ["result"])
WALLET_FAILURES = Counter(
    "loyalty_wallet_failures",
    "Failed calls to Apple's push service (wallet=apple) or the Google Wallet API "
    "(wallet=google): refused (an answer other than expected) or unavailable (no answer, "
    "429, 5xx, or the credentials could not be loaded).",
    ["wallet", "reason"])
WEBHOOK_ATTEMPTS = Counter("loyalty_webhook_attempts",
                           "Webhook delivery attempts, by result (delivered or failed).",
                           ["result"])

# --- refusals that protect accounts and PINs ---------------------------------------------

ATTEMPTS_REFUSED = Counter(
    "loyalty_attempts_refused",
    "Attempts refused because an attempt budget was used up, by budget (the setting: "
    "LOGIN_* are sign-in lockouts, PIN_FAILURE_LIMIT wrong PINs from one terminal).",
    ["budget"])
PIN_LOCKOUTS = Counter("loyalty_staff_pin_lockouts",
                       "Staff PINs locked after too many wrong attempts.")


def count_ledger_rows(session, kind, rows=1):
    """Count ``rows`` ledger rows of ``kind`` once ``session``'s transaction commits (a
    rollback forgets them)."""
    pending = session.info.setdefault(_PENDING_LEDGER, {})
    pending[str(kind)] = pending.get(str(kind), 0) + rows


@event.listens_for(Session, "after_commit")
def _count_committed_ledger_rows(session):
    for kind, rows in session.info.pop(_PENDING_LEDGER, {}).items():
        LEDGER_ROWS.labels(kind).inc(rows)


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back_ledger_rows(session, transaction):
    if transaction.parent is None:  # the outermost transaction ended without its commit
        session.info.pop(_PENDING_LEDGER, None)


# --- the request hooks and the scrape ----------------------------------------------------


def init_app(app):
    """Time and count every request the app answers; called before the request guard
    registers its hooks, so its refusals are timed too."""
    _app_process["pid"] = os.getpid()
    app.before_request(_start_timer)
    app.after_request(_count_request)


def _start_timer():
    g.metrics_started = time.perf_counter()


def _count_request(response):
    started = g.pop("metrics_started", None)
    blueprint = request.blueprint or ("static" if request.endpoint == "static" else "none")
    method = request.method if request.method in METHODS else "other"
    HTTP_REQUESTS.labels(blueprint, method, str(response.status_code)).inc()
    if started is not None:
        HTTP_DURATION.labels(blueprint, method).observe(time.perf_counter() - started)
    return response


class _Scrape:
    """What one scrape reads: the counters (this process's, or every process's files), and
    the collectors computed now."""

    def __init__(self, collectors):
        self.collectors = collectors

    def collect(self):
        if MULTIPROCESS_DIR:
            counted = CollectorRegistry()
            multiprocess.MultiProcessCollector(counted, path=MULTIPROCESS_DIR)
        else:
            counted = REGISTRY
        yield from counted.collect()
        for collector in self.collectors:
            yield from collector.collect()


def exposition(*collectors):
    """The text a scrape answers: every counter, then what ``collectors`` read now."""
    return generate_latest(_Scrape(collectors))
