"""What the drain puts back by itself: a dead worker's jobs and the retries no scheduler moves;
and the schedule's heartbeat, shown by the health check and the back office."""
import time
from datetime import timedelta

from rq import Queue, Retry, SimpleWorker
from rq.job import JobStatus
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import update

from loyalty.extensions import db, redis_client
from loyalty.jobs.outbox import drain_outbox
from loyalty.jobs.processes import Worker
from loyalty.models import OutboxMessage
from loyalty.services.delivery import job_recovery
from loyalty.services.merchant import team
from tests import factories
from tests.conftest import AuthActions

LOST_AFTER = 30


def started(queue, *, retries, silent_for):
    """A job a worker started, whose worker has said nothing for ``silent_for`` seconds."""
    job = queue.enqueue("tests.jobs.test_recovery.started", retry=Retry(max=retries)
                        if retries else None)
    queue.remove(job)
    worker = SimpleWorker([queue], connection=queue.connection)
    worker.register_birth()
    execution = worker.prepare_execution(job)
    job.set_status(JobStatus.STARTED)
    queue.connection.hset(execution.key, "last_heartbeat", time.time() - silent_for)
    return job


def test_a_silent_workers_job_goes_back_on_its_queue_once_as_one_of_its_retries(rq_app):
    connection = redis_client.connection
    queue = Queue("email", connection=connection)
    lost = started(queue, retries=2, silent_for=LOST_AFTER + 5)
    busy = started(queue, retries=2, silent_for=1)
    job_recovery.note_tick(connection, back=True, at=time.time() - 100)

    assert job_recovery.requeue_abandoned(connection, [queue], LOST_AFTER) == [lost.id]
    assert queue.job_ids == [lost.id]
    lost.refresh()
    assert lost.get_status() == JobStatus.QUEUED and lost.retries_left == 1
    assert StartedJobRegistry(queue=queue).get_job_ids(cleanup=False) == [busy.id]
    assert job_recovery.requeue_abandoned(connection, [queue], LOST_AFTER) == []  # once


def test_a_silent_workers_job_with_no_retry_left_is_failed(rq_app):
    connection = redis_client.connection
    queue = Queue("default", connection=connection)
    lost = started(queue, retries=0, silent_for=LOST_AFTER + 5)
    job_recovery.note_tick(connection, back=True, at=time.time() - 100)

    assert job_recovery.requeue_abandoned(connection, [queue], LOST_AFTER) == []
    assert queue.job_ids == []
    assert FailedJobRegistry(queue=queue).get_job_ids() == [lost.id]
    assert lost.get_status() == JobStatus.FAILED
    assert StartedJobRegistry(queue=queue).get_job_ids(cleanup=False) == []


def test_workers_cut_off_by_a_redis_outage_are_not_taken_for_dead(rq_app):
    connection = redis_client.connection
    queue = Queue("email", connection=connection)
    silent = started(queue, retries=2, silent_for=LOST_AFTER + 5)
    # Redis answers the schedule again since a moment: the silence may be the outage's.
    job_recovery.note_tick(connection, back=True)
    job_recovery.note_tick(connection)
    assert job_recovery.requeue_abandoned(connection, [queue], LOST_AFTER) == []
    assert StartedJobRegistry(queue=queue).get_job_ids(cleanup=False) == [silent.id]
    # Redis restarted without its data between two ticks: answering since the next tick.
    connection.delete(job_recovery.SCHEDULE_KEY)
    job_recovery.note_tick(connection)
    assert job_recovery.requeue_abandoned(connection, [queue], LOST_AFTER) == []
    assert job_recovery.requeue_abandoned(connection, [queue], LOST_AFTER,
                                          now=time.time() + LOST_AFTER + 1) == [silent.id]


def test_due_retries_move_when_no_scheduler_holds_their_queue(rq_app):
    connection = redis_client.connection
    queue = Queue("email", connection=connection)
    job = queue.enqueue_in(timedelta(seconds=-1), "tests.jobs.test_recovery.started")
    later = queue.enqueue_in(timedelta(minutes=5), "tests.jobs.test_recovery.started")
    lock = "rq:scheduler-lock:email"
    connection.set(lock, "a-live-scheduler", ex=60)
    assert job_recovery.enqueue_due_retries(connection, [queue]) == 0  # it moves them itself
    assert queue.job_ids == []

    connection.delete(lock)  # that scheduler died with the worker that ran it
    assert job_recovery.enqueue_due_retries(connection, [queue]) == 1
    assert queue.job_ids == [job.id]
    assert ScheduledJobRegistry(queue=queue).get_job_ids() == [later.id]
    assert not connection.exists(lock)  # left for the next scheduler


def test_a_schedule_that_stopped_ticking_is_shown_as_a_problem(rq_app):
    connection = redis_client.connection
    client = rq_app.test_client()
    AuthActions(client).login_as(factories.user("Ada Admin", admin=True))

    health = client.get("/healthz")
    assert health.status_code == 200  # reported: restarting the web would not fix it
    assert (health.json["scheduler"], health.json["status"]) == ("stale", "degraded")
    assert "The schedule has never ticked" in client.get("/admin/jobs").get_data(as_text=True)

    job_recovery.note_tick(connection, at=time.time() - 61)
    assert client.get("/healthz").json["scheduler"] == "stale"
    assert "The schedule has not ticked since" in client.get("/admin/jobs").get_data(
        as_text=True)

    job_recovery.note_tick(connection)
    health = client.get("/healthz").json
    assert (health["scheduler"], health["status"]) == ("ok", "ok")
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "The schedule has" not in page and "Schedule" in page


def test_a_worker_stops_listening_for_commands_within_a_second(rq_app):
    worker = Worker(["email"], connection=redis_client.connection)
    worker.subscribe()
    # RQ's teardown unsubscribes first; if the listening thread reads that answer before it is
    # told to stop, it waits to be subscribed again, for as long as one of its reads lasts.
    worker.pubsub.unsubscribe()
    time.sleep(0.5)
    asked = time.monotonic()
    worker.unsubscribe()
    assert time.monotonic() - asked < 3


def test_a_recovery_that_fails_does_not_stop_the_drain(rq_app, monkeypatch, caplog):
    """Whatever recovering abandoned jobs meets (a job RQ cannot read back), the drain still
    hands the waiting work over: the outbox never stops."""
    merchant = factories.merchant_with_team("Café Drain", "cafe-drain").merchant
    team.invite(merchant, email="waiting@example.com", name="Wait", role="merchant_owner")
    db.session.execute(update(OutboxMessage).values(enqueued_at=None))  # as if Redis was down
    db.session.commit()

    def broken(*args, **kwargs):
        raise ValueError("a job RQ cannot read back")

    monkeypatch.setattr(job_recovery, "recover", broken)
    assert drain_outbox() == 1
    assert "Recovering abandoned jobs failed" in caplog.text
