"""What the operator's endpoints read: whether this web process can serve (``/readyz``: the
database and Redis answer), and the figures a Prometheus scrape computes when it comes (the
outbox backlog, the RQ queues) beside the counters of ``loyalty/metrics.py``."""
from prometheus_client.core import GaugeMetricFamily
from redis.exceptions import RedisError
from rq import Queue
from rq.registry import FailedJobRegistry
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from loyalty.extensions import db, redis_client
from loyalty.services import outbox


def readiness():
    """Each dependency's state: "ok", "unreachable", or for Redis "not configured" (jobs
    then run inline). Ready when none is unreachable."""
    checks = {"database": "ok" if _database_answers() else "unreachable"}
    connection = redis_client.connection
    if connection is None:
        checks["redis"] = "not configured"
    else:
        try:
            connection.ping()
            checks["redis"] = "ok"
        except RedisError:
            checks["redis"] = "unreachable"
    return checks


def _database_answers():
    try:
        db.session.execute(text("SELECT 1"))
        db.session.commit()  # no transaction left open by a probe
        return True
    except SQLAlchemyError:
        db.session.rollback()
        return False


class BacklogCollector:
    """Gauges read at scrape time, each one cheap: the outbox's open rows (one indexed count)
    and each RQ queue's length and failed jobs (a list length and a sorted-set size). A source
    that does not answer is reported as down, not as a failed scrape."""

    def __init__(self, queues):
        self.queues = queues

    def collect(self):
        up = GaugeMetricFamily("loyalty_dependency_up",
                               "Whether the scrape could read the dependency (1) or not (0).",
                               labels=["dependency"])
        try:
            pending, age = outbox.backlog()
            db.session.commit()
        except SQLAlchemyError:
            db.session.rollback()
            up.add_metric(["database"], 0)
        else:
            up.add_metric(["database"], 1)
            yield GaugeMetricFamily("loyalty_outbox_pending",
                                    "Outbox rows waiting to be delivered.", value=pending)
            yield GaugeMetricFamily("loyalty_outbox_oldest_pending_age_seconds",
                                    "Age of the oldest outbox row waiting (0 when none).",
                                    value=age)
        connection = redis_client.connection
        if connection is not None:
            yield from self._queues(connection, up)
        yield up

    def _queues(self, connection, up):
        length = GaugeMetricFamily("loyalty_rq_queue_length", "Jobs waiting in each RQ queue.",
                                   labels=["queue"])
        failed = GaugeMetricFamily("loyalty_rq_failed_jobs",
                                   "Jobs in each RQ queue's failed registry.", labels=["queue"])
        try:
            for name in self.queues:
                queue = Queue(name, connection=connection)
                length.add_metric([name], queue.count)
                failed.add_metric([name],
                                  FailedJobRegistry(queue=queue).get_job_count(cleanup=False))
        except RedisError:
            up.add_metric(["redis"], 0)
            return
        up.add_metric(["redis"], 1)
        yield length
        yield failed
