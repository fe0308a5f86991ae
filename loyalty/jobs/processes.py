"""The long-running processes ``worker.py`` starts: the schedule, and the workers.

Each outlives Redis going away: it logs, waits (1 s, doubling up to
``REDIS_RETRY_MAX_SECONDS``) and carries on once Redis answers, in the same process. They exit
0 only when asked to stop (SIGTERM, Ctrl+C); a supervisor restarting them on any other exit
(``Restart=always``) covers the rest. Neither touches the database itself: a job that does and
finds it gone fails, and is retried.
"""
import logging
import signal
import time
from contextlib import contextmanager, suppress

from redis.exceptions import RedisError
from rq import Worker as RQWorker
from rq.cron import CronScheduler
from rq.exceptions import SchedulerNotFound, StopRequested

from loyalty.services.delivery import job_recovery

log = logging.getLogger(__name__)


class Backoff:
    """Waits of 1 s, then twice as long each time, up to ``cap`` seconds."""

    def __init__(self, cap):
        self.cap = max(1, cap)
        self.delay = 1

    def wait(self, why):
        log.warning("%s; trying again in %d s", why, self.delay)
        time.sleep(self.delay)
        self.delay = min(self.delay * 2, self.cap)

    def reset(self):
        self.delay = 1


class Schedule(CronScheduler):
    """RQ's cron scheduler, whose loop survives Redis going away (RQ's own ends on the first
    error) and records each tick for the health check (``job_recovery.note_tick``)."""

    def __init__(self, connection, *, name, retry_max_seconds):
        super().__init__(connection=connection, name=name)
        self.backoff = Backoff(retry_max_seconds)

    def start(self):
        """Enqueue each job when it is due, until asked to stop."""
        self.log.info("Schedule %s: starting", self.name)
        self._install_signal_handlers()
        back = True  # Redis answers since this tick (a start, or the end of an outage)
        try:
            while True:
                try:
                    if self.enqueue_jobs():
                        self.save()
                    self.heartbeat()  # registers this scheduler again after a Redis restart
                    job_recovery.note_tick(self.connection, back=back)
                except RedisError as error:
                    back = True
                    self.backoff.wait(f"Schedule {self.name}: Redis does not answer ({error})")
                    continue
                if back:
                    self.log.info("Schedule %s: Redis answers", self.name)
                back = False
                self.backoff.reset()
                time.sleep(self.calculate_sleep_interval())
        except (KeyboardInterrupt, StopRequested):
            self.log.info("Schedule %s: stop requested", self.name)
        finally:
            with suppress(RedisError, SchedulerNotFound):
                self.register_death()


class ShortCommandReads:
    """A worker listens for commands (stop a job, shut down) on a thread whose reads RQ lets
    block for 60 s; with redis-py 8 a worker's teardown waits for the read under way, so
    every stop took up to a minute. Reads of a second: a worker stops within one."""

    def subscribe(self):
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler)


class Worker(ShortCommandReads, RQWorker):
    """RQ's worker, whose loop goes on while Redis is away: the suspension check and the
    maintenance skip their turn (the dequeue that follows waits for Redis, with backoff),
    and a running job stays watched (RQ's own loop ends at the first of these errors). It
    notes a requested stop, and stops within a second (``ShortCommandReads``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stop_requested = False

    def request_stop(self, signum, frame):
        self.stop_requested = True
        super().request_stop(signum, frame)

    def check_for_suspension(self, burst):
        with self._redis_away("suspension check"):
            super().check_for_suspension(burst)

    def run_maintenance_tasks(self):
        with self._redis_away("maintenance"):  # tried again at the next turn
            super().run_maintenance_tasks()

    def maintain_heartbeats(self, job):
        with self._redis_away(f"heartbeat of job {job.id}"):
            super().maintain_heartbeats(job)

    @contextmanager
    def _redis_away(self, what):
        try:
            yield
        except RedisError as error:
            self.log.warning("Worker %s: %s skipped, Redis does not answer (%s)", self.name,
                             what, error)


def work(queue_names, connection, config, *, burst=False):
    """Work the queues (with RQ's scheduler of due retries) until asked to stop; returns the
    exit status. Should RQ's loop end all the same (a Redis timeout, any other error), it is
    started again after a wait, in this process. In burst mode, one pass: 1 if Redis failed
    it."""
    backoff = Backoff(config["REDIS_RETRY_MAX_SECONDS"])
    maintenance = config["WORKER_MAINTENANCE_SECONDS"]
    worker = None
    while True:
        started = time.monotonic()
        try:
            if worker is not None and worker.scheduler is not None:
                # Its scheduler process ended with the loop: the next one takes over at once.
                worker.scheduler.release_locks()
            worker = Worker(queue_names, connection=connection,
                            job_monitoring_interval=config["WORKER_HEARTBEAT_SECONDS"],
                            maintenance_interval=maintenance,
                            # an idle worker wakes this often for its maintenance
                            worker_ttl=maintenance + 15)
            worker.max_connection_wait_time = backoff.cap
            worker.work(with_scheduler=True, burst=burst)
        except RedisError as error:
            why = f"Worker: Redis does not answer ({error})"
        else:
            if burst:
                return 0
            why = "Worker: RQ's work loop ended on an error (logged above)"
        if worker is not None and worker.stop_requested:
            return 0
        if burst:
            return 1
        if time.monotonic() - started > backoff.cap:
            backoff.reset()  # it worked a while: this is a new outage
        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        try:
            backoff.wait(why)
        except StopRequested:
            return 0


def _stop(signum, frame):
    raise StopRequested
