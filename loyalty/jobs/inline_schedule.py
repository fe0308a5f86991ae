"""The schedule without Redis: a thread of the web process runs ``SCHEDULE``'s jobs inline.

With Redis, ``python worker.py cron`` enqueues the schedule's jobs and workers run them. The
embedded default has neither, so ``make run`` sets ``INLINE_SCHEDULE=1`` on its ``flask run``
and ``wsgi.py`` starts this thread: every second it runs, one after the other and in this
process, the jobs that are due (their interval, or their cron line in UTC), each in an app
context of its own. The outbox is drained, each merchant's morning comes, old rows are pruned,
just as with Redis. One thread per process (a second ``start`` does nothing); never with Redis
(the cron process does that work) and never in tests, which call ``tick`` with the time they
choose. Under gunicorn, each worker process would run its own: use Redis there.
"""
import logging
import threading

from werkzeug.serving import is_running_from_reloader

from loyalty import clock
from loyalty.jobs import SCHEDULE
from loyalty.services.platform.job_monitor import next_run

log = logging.getLogger(__name__)

TICK_SECONDS = 1

_started = None
_lock = threading.Lock()


class InlineSchedule:
    """When each scheduled job is due next, and running those that are."""

    def __init__(self, app, schedule=SCHEDULE):
        self.app = app
        self.schedule = schedule
        #: name -> when it is due next. An interval job is due at once, a cron job at its
        #: next time (the mornings job looks back over the morning's hours anyway).
        self.due = {}

    def tick(self, now):
        """Run the jobs due at ``now`` (aware, UTC); returns their names. A job that fails is
        logged and runs again at its next time."""
        ran = []
        for name, function, _queue, every, _about in self.schedule:
            due = self.due.setdefault(name, next_run(every, None, now))
            if due > now:
                continue
            try:
                with self.app.app_context():
                    function()
            except Exception:  # noqa: BLE001 - one job's failure never stops the schedule
                log.exception("Scheduled job %s failed; it runs again at its next time", name)
            self.due[name] = next_run(every, now, now)
            ran.append(name)
        return ran

    def run(self, stop):
        """Tick every second until ``stop`` is set."""
        while not stop.wait(TICK_SECONDS):
            self.tick(clock.now())


def start(app):
    """Start the schedule's thread in this process, once; returns it (None when it is not for
    this process: Redis runs the schedule, or this is the debug reloader's watcher, which
    serves nothing)."""
    global _started  # noqa: PLW0603 - one schedule per process
    if not app.config["JOBS_INLINE"] or (app.debug and not is_running_from_reloader()):
        return None
    with _lock:
        if _started is None:
            schedule = InlineSchedule(app)
            thread = threading.Thread(target=schedule.run, args=(threading.Event(),),
                                      name="inline-schedule", daemon=True)
            thread.start()
            _started = thread
            log.info("Running the schedule in this process (no Redis)")
        return _started
