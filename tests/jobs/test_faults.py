"""Faults with real processes: Redis stopped under joins, a worker SIGKILLed mid-job, a retry
with no schedule running. Nobody restarts anything by hand; each test says how long the work
took to come back (``pytest -s`` prints it; the README's "What happens when" table quotes it)."""
import time

from redis import Redis
from sqlalchemy import func, select

from loyalty.extensions import db
from loyalty.models import OutboxMessage, SentEmail
from tests import factories
from tests.conftest import csrf_token_from

#: What the issue measured: Redis stopped this long while customers join.
OUTAGE_SECONDS = 20


def shop(make_app, redis_server, slug, **settings):
    """The web app on the test's own Redis, and a shop whose customers join online. Jobs it
    enqueues retry at once when they fail, unless ``settings`` say otherwise."""
    app = make_app(**{"REDIS_URL": redis_server.url, "JOBS_INLINE": False,
                      "JOB_RETRY_DELAYS": [0, 0], "RATELIMIT_STORAGE_URI": "memory://",
                      "JOIN_ADDRESS_LIMIT": "100 per hour", **settings})
    with app.app_context():
        factories.stamp_program(factories.merchant_with_team("Café Panne", slug).merchant)
        db.session.commit()
    return app


def join(client, slug, email):
    """A customer joins on the shop's page; returns the answer and how long it took."""
    token = csrf_token_from(client.get(f"/m/{slug}/join"))
    started = time.monotonic()
    response = client.post(f"/m/{slug}/join", data={
        "csrf_token": token, "first_name": "Jo", "last_name": email.split("@")[0],
        "email": email, "phone": "", "language": "en", "consent": "y", "website": ""})
    return response, time.monotonic() - started


def recipients(inbox):
    return sorted(message["To"] for message in inbox.messages)


def outbox_row(app):
    with app.app_context():
        return db.session.scalar(select(OutboxMessage))


def sent_emails(app):
    with app.app_context():
        return db.session.scalar(select(func.count(SentEmail.id)))


def test_redis_stopped_under_joins_every_email_goes_out_and_the_schedule_carries_on(
        make_app, redis_server, inbox, processes):
    app = shop(make_app, redis_server, "cafe-orage")
    client = app.test_client()
    cron = processes.start("cron")
    processes.start("default")
    processes.start("email")
    answer, _took = join(client, "cafe-orage", "before@example.com")
    assert answer.status_code == 302
    processes.wait_until(lambda: len(inbox.messages) == 1, 60, "the first welcome email")

    redis_server.stop()
    stopped = time.monotonic()
    during = [f"during{n}@example.com" for n in range(5)]
    slowest = 0
    for email in during:
        answer, took = join(client, "cafe-orage", email)
        assert answer.status_code == 302 and answer.location.endswith("/join/sent")
        slowest = max(slowest, took)
        time.sleep((OUTAGE_SECONDS - 1) / len(during))
    assert slowest < 3  # the customer is not kept waiting by the missing Redis
    health = client.get("/healthz").json
    assert (health["redis"], health["scheduler"]) == ("unreachable", "unknown")
    assert health["outbox"]["pending"] == len(during)  # the work waits in the outbox
    time.sleep(max(0, OUTAGE_SECONDS - (time.monotonic() - stopped)))

    redis_server.start()
    back = time.monotonic()
    recovered = processes.wait_until(lambda: len(inbox.messages) == 1 + len(during), 60,
                                     "every welcome email after the outage")
    print(f"\nRedis down {back - stopped:.0f} s: joins answered in {slowest:.2f} s at most; "
          f"their emails went out {recovered:.1f} s after it came back")
    assert cron.poll() is None, processes.logs()  # the same schedule process, never restarted
    assert all(process.poll() is None for process in processes.started)
    assert recipients(inbox) == sorted(["before@example.com", *during])
    processes.wait_until(lambda: sent_emails(app) == 1 + len(during), 10,
                         "every delivery recorded")  # just after its SMTP talk
    health = client.get("/healthz").json
    assert (health["status"], health["scheduler"]) == ("ok", "ok")
    assert health["outbox"]["pending"] == 0


def test_a_worker_killed_mid_send_has_its_email_sent_once_by_another(make_app, redis_server,
                                                                     inbox, processes):
    app = shop(make_app, redis_server, "cafe-coupe")
    client = app.test_client()
    fast = {"WORKER_HEARTBEAT_SECONDS": "1", "WORKER_LOST_AFTER_SECONDS": "4"}
    processes.start("cron", **fast)
    processes.start("default", **fast)
    doomed = processes.start("email", **fast)
    inbox.hold()
    answer, _took = join(client, "cafe-coupe", "late@example.com")
    assert answer.status_code == 302
    assert inbox.sender_waiting.wait(60), "the worker never reached the SMTP server\n" + \
        processes.logs()
    processes.kill(doomed)  # the worker and its work horse, in the middle of the SMTP talk
    killed = time.monotonic()
    inbox.release()
    processes.start("email", **fast)

    recovered = processes.wait_until(lambda: len(inbox.messages) == 1, 60,
                                     "the email of the killed worker's job")
    print(f"\nA worker killed mid-send: its email went out {recovered:.1f} s later "
          f"(WORKER_LOST_AFTER_SECONDS=4)")
    time.sleep(2)  # time enough for a second copy, were there one
    assert recipients(inbox) == ["late@example.com"]
    assert sent_emails(app) == 1
    row = outbox_row(app)
    assert row.delivered_at is not None and row.failed_at is None


def test_a_retry_goes_out_with_no_schedule_running(make_app, redis_server, inbox, processes):
    app = shop(make_app, redis_server, "cafe-reprise", JOB_RETRY_DELAYS=[1])
    client = app.test_client()
    processes.start("email", WORKER_MAINTENANCE_SECONDS="1")
    connection = Redis.from_url(redis_server.url)
    lock = "rq:scheduler-lock:email"
    processes.wait_until(lambda: connection.exists(lock), 60, "the worker's RQ scheduler")
    # A short Redis outage ends the worker's RQ scheduler (its own process); no cron runs.
    redis_server.stop()
    time.sleep(3)
    redis_server.start()

    inbox.refuse(1)  # the first attempt fails: its retry waits in RQ's scheduled registry
    answer, _took = join(client, "cafe-reprise", "retry@example.com")
    assert answer.status_code == 302
    recovered = processes.wait_until(lambda: len(inbox.messages) == 1, 30, "the retried email")
    print(f"\nA retry 1 s after a failure went out {recovered:.1f} s after the join")
    assert recipients(inbox) == ["retry@example.com"]
    processes.wait_until(lambda: outbox_row(app).delivered_at is not None, 10, "delivered")
    assert outbox_row(app).attempts == 2


def test_a_worker_asked_to_stop_stops_at_once_and_says_it_was_asked(redis_server, processes):
    worker = processes.start("email")
    connection = Redis.from_url(redis_server.url)
    processes.wait_until(lambda: _listening(connection), 60, "the worker listening")
    worker.terminate()  # SIGTERM, as a supervisor stops it
    asked = time.monotonic()
    assert worker.wait(30) == 0, processes.logs()  # 0: no supervisor restarts it
    assert time.monotonic() - asked < 5


def _listening(connection):
    """Whether a worker waits for jobs (its signal handlers are in place by then)."""
    return any(connection.hget(key, "state") == b"idle" for key in connection.smembers(
        "rq:workers"))
