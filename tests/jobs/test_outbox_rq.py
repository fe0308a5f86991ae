"""The outbox on RQ with the real Redis: delivered once, whatever happens on the way."""
import threading

from redis import Redis
from rq import Queue
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select, update

from loyalty.database import write_transaction
from loyalty.extensions import db, redis_client
from loyalty.models import Merchant, OutboxMessage, SentEmail
from loyalty.services import outbox
from loyalty.services.merchant import team
from tests import factories
from tests.conftest import AuthActions, csrf_token_from
from tests.jobs.conftest import CLOSED_PORT_URL, free_port, work


def invite(merchant, email="new.person@example.com"):
    team.invite(merchant, email=email, name="New Person", role="merchant_owner")
    return db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()))


def fresh(row):
    """The row as the database has it now (ending the test's own read snapshot first)."""
    db.session.commit()
    db.session.refresh(row)


def sent_count():
    db.session.commit()
    return db.session.scalar(select(func.count(SentEmail.id)))


def test_a_change_enqueues_its_email_and_a_worker_sends_it_once(rq_app):
    merchant = factories.merchant_with_team("Café Rue", "cafe-rue").merchant
    row = invite(merchant)
    fresh(row)
    assert row.enqueued_at is not None and row.delivered_at is None
    assert Queue("email", connection=redis_client.connection).job_ids == [f"outbox-{row.id}"]

    work(rq_app)
    assert sent_count() == 1
    fresh(row)
    assert row.delivered_at is not None and row.attempts == 1
    assert "secret" not in row.payload  # the link's secret leaves the row once sent

    # Handed to RQ again (a drain racing the commit, a duplicate enqueue): still one email.
    outbox._enqueue([(row.id, row.queue)])
    work(rq_app)
    assert sent_count() == 1


def test_redis_down_during_the_request_keeps_the_work_until_it_is_back(make_app, redis_url):
    app = make_app(REDIS_URL=CLOSED_PORT_URL, JOBS_INLINE=False, JOB_RETRY_DELAYS=[0, 0])
    with app.app_context():
        owner_email = factories.merchant_with_team("Café Panne", "cafe-panne").owner.email
        db.session.commit()
    client = app.test_client()
    token = csrf_token_from(client.get("/login"))
    client.post("/login", data={"email": owner_email, "password": factories.PASSWORD,
                                "csrf_token": token})
    token = csrf_token_from(client.get("/merchant/team"))
    response = client.post("/merchant/team", data={
        "csrf_token": token, "email": "late@example.com", "name": "Late Mail",
        "role": "merchant_owner"})
    assert response.status_code == 302  # the invitation is saved though Redis is down
    assert "Invitation sent to late@example.com." in client.get(response.location).get_data(
        as_text=True)

    with app.app_context():
        row = db.session.scalar(select(OutboxMessage))
        assert (row.enqueued_at, row.delivered_at) == (None, None)  # waiting in the outbox
        assert sent_count() == 0
        assert outbox.backlog()[0] == 1

        app.extensions["redis"] = Redis.from_url(redis_url)  # Redis is back
        assert outbox.drain() == 1
        assert outbox.drain() == 0  # handed over once
        work(app)
        assert sent_count() == 1
        assert outbox.backlog() == (0, 0)
        sent = db.session.scalar(select(SentEmail))
        assert sent.to_address == "late@example.com"
        assert "/set-password/" in sent.body_text


def test_the_drain_hands_over_again_what_redis_lost(rq_app):
    merchant = factories.merchant_with_team("Café Perdu", "cafe-perdu").merchant
    row = invite(merchant)
    redis_client.connection.flushdb()  # Redis restarted without persistence
    assert outbox.drain() == 0  # too recent to call lost
    rq_app.config["OUTBOX_REDELIVER_SECONDS"] = 0
    assert outbox.drain() == 1
    work(rq_app)
    assert sent_count() == 1
    fresh(row)
    assert row.delivered_at is not None


def test_a_failing_job_retries_then_fails_and_an_admin_retry_sends_it(rq_app):
    rq_app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_SECURITY="none")
    merchant = factories.merchant_with_team("Café Poison", "cafe-poison").merchant
    bad = invite(merchant, "first@example.com")
    work(rq_app)  # three attempts: the first and two retries
    fresh(bad)
    assert bad.delivered_at is None and bad.failed_at is not None
    assert bad.attempts == 3
    assert "ConnectionRefusedError" in bad.last_error

    # A poisoned job blocks nothing: the next email goes out once SMTP is reachable.
    rq_app.config["SMTP_HOST"] = None  # kept in sent_emails
    invite(merchant, "second@example.com")
    work(rq_app)
    assert sent_count() == 1

    admin = factories.user("Ada Admin", admin=True)
    db.session.commit()
    client = rq_app.test_client()
    AuthActions(client).login_as(admin)
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert f"outbox:{bad.id}" in page and "ConnectionRefusedError" in page
    response = client.post("/admin/jobs/retry", data={
        "csrf_token": csrf_token_from(client.get("/admin/jobs")), "ref": f"outbox:{bad.id}"})
    assert response.status_code == 302
    work(rq_app)
    assert sent_count() == 2
    fresh(bad)
    assert bad.delivered_at is not None and bad.failed_at is None and bad.attempts == 4
    assert "No failed jobs." in client.get("/admin/jobs").get_data(as_text=True)


def test_a_failure_with_retries_left_waits_for_its_retry_and_is_not_failed_yet(make_app,
                                                                             redis_url):
    app = make_app(REDIS_URL=redis_url, JOBS_INLINE=False, JOB_RETRY_DELAYS=[60],
                   SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_SECURITY="none")
    with app.app_context():
        row = invite(factories.merchant_with_team("Café Patience", "cafe-patience").merchant)
        work(app)
        fresh(row)
        assert row.attempts == 1 and "ConnectionRefusedError" in row.last_error
        assert row.failed_at is None  # RQ retries it in a minute: not the admins' business yet
        assert ScheduledJobRegistry("email", connection=redis_client.connection).get_job_ids() \
            == [f"outbox-{row.id}"]


def test_sending_holds_no_database_lock_while_smtp_talks(make_app, inbox):
    """A slow SMTP server must not stop the counter: the send runs between transactions."""
    app = make_app(REDIS_URL=CLOSED_PORT_URL, JOBS_INLINE=False, SMTP_HOST="127.0.0.1",
                   SMTP_PORT=inbox.port, SMTP_SECURITY="none")
    with app.app_context():
        merchant = factories.merchant_with_team("Café Lent", "cafe-lent").merchant
        merchant_id, row_id = merchant.id, invite(merchant).id  # waits in the outbox (Redis down)
        db.session.commit()
    inbox.hold()
    sender = threading.Thread(target=_deliver_in, args=(app, row_id))
    sender.start()
    assert inbox.sender_waiting.wait(30)
    writer = threading.Thread(target=_rename_merchant, args=(app, merchant_id))
    writer.start()
    writer.join(10)
    finished_while_held = not writer.is_alive()
    inbox.release()
    sender.join(30)
    writer.join(30)
    assert finished_while_held


def _deliver_in(app, row_id):
    with app.app_context():
        try:
            outbox.deliver(row_id)
        except Exception:  # noqa: BLE001 - the held server answers 421; recorded on the row
            pass


def _rename_merchant(app, merchant_id):
    with app.app_context(), write_transaction():
        db.session.execute(update(Merchant).where(Merchant.id == merchant_id)
                           .values(name="Café Rapide"))


def test_a_customer_joining_has_their_welcome_email_on_the_queue_at_once(rq_app):
    """Not on a delayed or scheduled queue: the first idle worker sends it right away."""
    merchant = factories.merchant_with_team("Café Rue", "cafe-rue").merchant
    factories.stamp_program(merchant)
    db.session.commit()
    client = rq_app.test_client()
    token = csrf_token_from(client.get("/m/cafe-rue/join"))
    answer = client.post("/m/cafe-rue/join", data={
        "csrf_token": token, "first_name": "Wendy", "last_name": "Welcome",
        "email": "wendy@example.com", "phone": "", "language": "en", "consent": "y",
        "website": ""})
    assert answer.status_code == 302
    db.session.commit()
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.queue == "email"))
    assert row.payload["template"] == "welcome" and row.enqueued_at is not None
    email_queue = Queue("email", connection=redis_client.connection)
    assert email_queue.job_ids == [f"outbox-{row.id}"]
    assert ScheduledJobRegistry(queue=email_queue).get_job_ids() == []
    work(rq_app, queues=["email"])
    assert sent_count() == 1
