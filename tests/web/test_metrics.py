"""/metrics (Prometheus text behind METRICS_TOKEN) and /readyz (the database and Redis
answer). The scrape is read with the client library's own parser; counters are process-wide,
so each test compares the scrape after its requests with the one before."""
import json
import os
import subprocess
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families

from loyalty import metrics
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.services.engine import staff_pins
from tests import factories

TOKEN = "a-long-random-metrics-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def scrape(client):
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    return parse(response.text)


def parse(text):
    """{(sample name, sorted labels): value} of a scrape, read by the client's own parser."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def token(app):
    app.config["METRICS_TOKEN"] = TOKEN


def test_metrics_answer_404_while_no_token_is_set(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers=BEARER).status_code == 404


@pytest.mark.parametrize("authorization", [
    None, f"Bearer {TOKEN}x", "Bearer ", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN[:-1]}"])
def test_metrics_refuse_a_missing_or_wrong_token(token, client, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "loyalty_" not in response.text


def test_requests_and_ledger_rows_are_counted(token, client, merchant, terminal):
    factories.stamp_program(merchant.merchant, stamps_target=3)
    card = factories.card(merchant.merchant, "Ida Stamp", email="ida@example.com")
    staff = terminal.sign_in(merchant.staff)
    before = scrape(client)

    assert client.get("/terminal/").status_code == 200
    assert client.get("/no-such-page").status_code == 404
    assert staff.act(card.id, "stamp").status_code == 200
    assert staff.act(card.id, "stamp").status_code == 409  # the cooldown: nothing written

    after = scrape(client)
    http = "loyalty_http_requests_total"
    assert value(after, http, blueprint="terminal", method="GET", status="200") \
        == value(before, http, blueprint="terminal", method="GET", status="200") + 1
    assert value(after, http, blueprint="terminal", method="POST", status="200") \
        == value(before, http, blueprint="terminal", method="POST", status="200") + 1
    assert value(after, http, blueprint="none", method="GET", status="404") \
        == value(before, http, blueprint="none", method="GET", status="404") + 1
    duration = "loyalty_http_request_duration_seconds_count"
    assert value(after, duration, blueprint="terminal", method="POST") \
        == value(before, duration, blueprint="terminal", method="POST") + 2
    ledger = "loyalty_ledger_rows_total"
    assert value(after, ledger, kind="stamp_earned") \
        == value(before, ledger, kind="stamp_earned") + 1
    assert value(after, "loyalty_dependency_up", dependency="database") == 1
    assert ("loyalty_outbox_pending", ()) in after
    assert ("loyalty_outbox_oldest_pending_age_seconds", ()) in after
    if client.application.config["REDIS_URL"]:  # the PostgreSQL run: RQ's queues are read too
        assert value(after, "loyalty_dependency_up", dependency="redis") == 1
        assert ("loyalty_rq_queue_length", (("queue", "email"),)) in after
        assert ("loyalty_rq_failed_jobs", (("queue", "webhooks"),)) in after


def test_a_ledger_row_counts_only_once_its_transaction_commits(app):
    counted = metrics.LEDGER_ROWS.labels("stamp_adjusted")
    start = counted._value.get()
    with pytest.raises(RuntimeError):
        with write_transaction():
            metrics.count_ledger_rows(db.session, "stamp_adjusted")
            raise RuntimeError("the use case failed after writing its row")
    assert counted._value.get() == start
    with write_transaction():
        metrics.count_ledger_rows(db.session, "stamp_adjusted", 2)
        assert counted._value.get() == start  # written, not yet committed
    assert counted._value.get() == start + 2


def test_sign_in_and_pin_lockouts_are_counted(token, client, auth, merchant, terminal):
    before = scrape(client)
    for _ in range(6):  # LOGIN_ACCOUNT_ADDRESS_LIMIT: 5 per 5 minutes
        response = auth.login(merchant.owner.email, "not-the-password")
    assert response.status_code == 429
    factories.stamp_program(merchant.merchant, require_staff_pin=True)
    card = factories.card(merchant.merchant, "Pin Paul", email="paul@example.com")
    tom = staff_pins.create_staff_pin(merchant.merchant, merchant.stores[0], "Tom", "1234")
    staff = terminal.sign_in(merchant.staff)
    for _ in range(5):
        locked = staff.act(card.id, "stamp", pin="9999", staff_pin_id=tom.id)
    assert locked.status_code == 423
    after = scrape(client)
    refused = "loyalty_attempts_refused_total"
    assert value(after, refused, budget="LOGIN_ACCOUNT_ADDRESS_LIMIT") \
        == value(before, refused, budget="LOGIN_ACCOUNT_ADDRESS_LIMIT") + 1
    assert value(after, "loyalty_staff_pin_lockouts_total") \
        == value(before, "loyalty_staff_pin_lockouts_total") + 1


def test_ready_when_the_database_and_configured_redis_answer(app, client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"database": "ok", "status": "ready",
                             "redis": "ok" if app.config["REDIS_URL"] else "not configured"}


def test_not_ready_when_redis_does_not_answer(make_app):
    # Nothing listens on port 1: this is what a stopped Redis looks like to the app.
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0", RATELIMIT_STORAGE_URI="memory://",
                   METRICS_TOKEN=TOKEN)
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json == {"database": "ok", "redis": "unreachable", "status": "not ready"}
    samples = scrape(client)  # the scrape still answers, saying what it could not read
    assert value(samples, "loyalty_dependency_up", dependency="redis") == 0
    assert value(samples, "loyalty_dependency_up", dependency="database") == 1


def test_not_ready_when_the_database_does_not_answer(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none",
                   SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 1}},
                   REDIS_URL=None, RATELIMIT_STORAGE_URI="memory://", METRICS_TOKEN=TOKEN)
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json == {"database": "unreachable", "redis": "not configured",
                             "status": "not ready"}
    assert value(scrape(client), "loyalty_dependency_up", dependency="database") == 0


# Under PROMETHEUS_MULTIPROC_DIR (gunicorn's workers, the RQ workers' work horses) each
# process writes its own file and a scrape from any of them adds them up.
MULTIPROCESS = """
import json, os, sys
from loyalty import create_app
app = create_app(json.loads(sys.argv[1]))

def work(n, horse=False):
    # A forked process (nothing connected before the fork) that answers n requests.
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            if horse:
                os.environ["RQ_WORKER_ID"] = "worker-1"  # what RQ sets in a work horse
            client = app.test_client()
            code = 0 if all(client.get("/no-such-page").status_code == 404
                            for _ in range(n)) else 1
        finally:
            os._exit(code)
    assert os.waitpid(pid, 0)[1] == 0

work(2)
work(3)
work(4, horse=True)
work(5, horse=True)
scraped = app.test_client().get("/metrics", headers={"Authorization": "Bearer t"})
print(json.dumps({"status": scraped.status_code, "text": scraped.text,
                  "files": sorted(os.listdir(os.environ["PROMETHEUS_MULTIPROC_DIR"]))}))
"""


def test_multiprocess_mode_adds_up_every_process(database_url, tmp_path):
    from tests.conftest import _base_config  # noqa: PLC0415

    config = {**_base_config(str(database_url)), "METRICS_TOKEN": "t"}
    directory = tmp_path / "metrics"
    directory.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory), "PYTHONPATH": ROOT}
    done = subprocess.run([sys.executable, "-c", MULTIPROCESS, json.dumps(config)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 200
    samples = parse(result["text"])
    assert value(samples, "loyalty_http_requests_total", blueprint="none", method="GET",
                 status="404") == 14
    counters = [name for name in result["files"] if name.startswith("counter_")]
    # two gunicorn-like workers and the parent: a file each; the horses of one worker: one
    assert len([name for name in counters if "horse-of-" in name]) == 1
    assert len(counters) == 4, result["files"]


def test_email_and_webhook_failures_are_counted(make_app, merchant):
    """Nothing listens on port 1: the SMTP server and the webhook receiver are down."""
    from loyalty.services.engine import points  # noqa: PLC0415
    from loyalty.services.engine.ledger import ActionContext  # noqa: PLC0415
    from loyalty.services.integrations import webhooks  # noqa: PLC0415
    from loyalty.services.merchant import team  # noqa: PLC0415

    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=1, SMTP_SECURITY="none", METRICS_TOKEN=TOKEN)
    client = app.test_client()
    before = scrape(client)
    with app.app_context():
        shop = db.session.merge(merchant.merchant)
        team.invite(shop, email="new@example.com", name="New", role="merchant_owner")
        factories.points_program(shop)
        webhooks.create_endpoint(shop.id, url="http://127.0.0.1:1/hook", events=["points.earned"])
        points.earn_points(factories.card(shop), 500, context=ActionContext())
    after = scrape(client)
    for name, labels in (("loyalty_emails_total", {"result": "failed"}),
                         ("loyalty_webhook_attempts_total", {"result": "failed"})):
        assert value(after, name, **labels) == value(before, name, **labels) + 1, name
    assert value(after, "loyalty_emails_total", result="sent") \
        == value(before, "loyalty_emails_total", result="sent")
