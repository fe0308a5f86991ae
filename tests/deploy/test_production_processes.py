"""The production processes, started as the systemd units start them, serve a shop's day.

``deploy/systemd``'s ``ExecStart`` lines are run from this checkout (``/opt/loyalty`` is the
repository, its ``.venv`` the one running the tests) with the units' own ``Environment=`` and
the settings ``/etc/loyalty/loyalty.env`` would hold: the test database, the job tests' Redis
(``TEST_REDIS_URL``), an SMTP server of the test's own, gunicorn bound by ``GUNICORN_CMD_ARGS``
to a free port. The release step (``flask --app wsgi db upgrade``) runs first. Then a customer
joins on the public page and the welcome email reaches the SMTP server; staff sign in and add a
stamp at the counter; the shop's morning comes and an expiry warning goes out; the web's
``/metrics`` counts both emails, which the worker sent (the units share their metrics
directory); every process stops on SIGTERM with status 0.

The morning: the schedule enqueues ``mornings`` hourly at :07 on the real clock (RQ's cron), so
the test enqueues that same job, as the schedule would, for a shop whose time zone puts it at
04:00 now (``MORNING_HOUR``); the card's last activity is moved 17 days back, into its points'
warning period (30-day expiry, 14 days' notice). That the schedule itself runs is seen in its
``drain-outbox`` runs, worked by the default worker.

PostgreSQL and Redis only: skipped on SQLite; without Redis skipped, or failed with
``REQUIRE_REDIS=1`` (CI).
"""
import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue
from sqlalchemy import select

from loyalty.extensions import db, redis_client
from loyalty.jobs.points import start_mornings
from loyalty.models import Customer, LoyaltyCard
from loyalty.services.platform import job_monitor
from tests import factories
from tests.conftest import CSRF_FIELD, ON_POSTGRES
from tests.deploy.units import ROOT, SERVICES, exec_start, in_checkout, unit_settings
from tests.jobs.conftest import free_port
from tests.jobs.processes import Processes

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL + Redis only "
                                "(TEST_DATABASE_URL, TEST_REDIS_URL)")

CUSTOMER = "chloe.muller@loyalty.test"
HTMX = {"HX-Request": "true"}
METRICS_TOKEN = "production-test-metrics"


def zone_at_hour(hour):
    """A time zone whose wall clock reads ``hour`` o'clock now."""
    offset = (hour - datetime.now(UTC).hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # POSIX signs are reversed


def unit_environment(service, run_dir):
    """The unit's ``Environment=`` settings, its ``/run`` directory (``RuntimeDirectory=``,
    created) moved under ``run_dir``."""
    settings = unit_settings(f"{service}.service")
    for directory in " ".join(settings.get("RuntimeDirectory", [])).split():
        (run_dir / directory).mkdir(parents=True, exist_ok=True)
    pairs = (value.split("=", 1) for value in settings.get("Environment", []))
    return {name: value.replace("/run/", f"{run_dir}/") for name, value in pairs}


@pytest.fixture
def shop(make_app, redis_url):
    """A shop with one store, a hybrid card (50 welcome points expiring after 30 quiet days,
    with 14 days' notice) open to sign-ups, in a time zone where it is 04:00 now."""
    app = make_app(REDIS_URL=redis_url)
    with app.app_context():
        team = factories.merchant_with_team("Café Matin", "cafe-matin", stores=1)
        factories.hybrid_program(team.merchant, welcome_bonus_points=50,
                                 points_expiration_days=30, expiry_warning_days=14)
        team.merchant.timezone = zone_at_hour(app.config["MORNING_HOUR"])
        db.session.commit()
        yield app, team


@pytest.fixture
def production(tmp_path, database_url, redis_url, inbox):
    """The environment file's settings for this test; the processes started, killed if the test
    ends with them running."""
    port = free_port()
    env = {**os.environ, "LOYALTY_ENV": "development", "SECRET_KEY": "production-test-secret",
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "DATABASE_URL": database_url,
           "REDIS_URL": redis_url, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(inbox.port),
           "SMTP_SECURITY": "none", "MAIL_FROM": "Loyalty <no-reply@loyalty.test>",
           "GUNICORN_CMD_ARGS": f"--bind=127.0.0.1:{port} --workers=1",
           "RATELIMIT_KEY_PREFIX": f"loyalty-{uuid.uuid4().hex[:8]}",
           "BCRYPT_ROUNDS": "4", "PIN_BCRYPT_ROUNDS": "4", "METRICS_TOKEN": METRICS_TOKEN}
    for name in ("TEST_DATABASE_URL", "FLASK_APP", "INLINE_SCHEDULE", "JOBS_INLINE"):
        env.pop(name, None)
    processes = Processes(tmp_path, env)
    processes.url = f"http://127.0.0.1:{port}"
    yield processes
    processes.stop_all()


def start(processes, service, run_dir):
    [directory] = unit_settings(f"{service}.service")["WorkingDirectory"]
    log = processes.directory / f"{service}.log"
    with open(log, "w") as output:
        process = subprocess.Popen(
            exec_start(service, run_dir), cwd=in_checkout(directory), start_new_session=True,
            env={**processes.env, **unit_environment(service, run_dir)},
            stdout=output, stderr=subprocess.STDOUT)
    process.log, process.service = log, service
    processes.started.append(process)
    return process


def csrf_token(response):
    match = CSRF_FIELD.search(response.text)
    assert match, f"{response.url} has no CSRF token"
    return match.group(1)


def answers(url):
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:  # not listening yet, or its workers still warming up
        return False


def mail_to(inbox, subject):
    return [message for message in inbox.messages
            if message["To"].endswith(CUSTOMER) and message["Subject"] == subject]


def emails_sent(url):
    """The web's /metrics count of emails sent: the workers write it, in the units' shared
    metrics directory."""
    text = requests.get(f"{url}/metrics", timeout=10,
                        headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples
               if sample.name == "loyalty_emails_total" and sample.labels == {"result": "sent"})


def last_drain(app):
    """How the schedule's last ``drain-outbox`` went, as the back office shows it."""
    with app.app_context():
        [status] = [row[4] for row in job_monitor.overview().scheduled if row[0] == "drain-outbox"]
        return status


def test_a_shops_day_on_the_production_processes(shop, production, inbox, tmp_path, make_app,
                                                 redis_url):
    app, team = shop
    release = subprocess.run(
        [os.path.join(sys.prefix, "bin", "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
        env=production.env, capture_output=True, text=True, timeout=60, check=False)
    assert release.returncode == 0, release.stdout + release.stderr

    run_dir = tmp_path / "run"
    for service in SERVICES:
        start(production, service, run_dir)
    production.wait_until(lambda: answers(f"{production.url}/healthz"), 30, "gunicorn serving")

    # A customer joins on the shop's page; the welcome email reaches the SMTP server.
    customer = requests.Session()
    join_url = f"{production.url}/m/cafe-matin/join"
    joined = customer.post(join_url, allow_redirects=False, timeout=10, data={
        "csrf_token": csrf_token(customer.get(join_url, timeout=10)), "first_name": "Chloé",
        "last_name": "Muller", "email": CUSTOMER, "phone": "", "language": "en",
        "consent": "y", "website": ""})
    assert joined.status_code == 302 and joined.headers["Location"].endswith("/join/sent")
    production.wait_until(lambda: mail_to(inbox, "Welcome to Café Matin: your loyalty card"),
                          20, "the welcome email")
    with app.app_context():
        card = db.session.scalar(select(LoyaltyCard).join(Customer)
                                 .where(Customer.email == CUSTOMER))
        card_id, secret = card.id, card.page_secret
    [welcome] = mail_to(inbox, "Welcome to Café Matin: your loyalty card")
    assert f"{production.url}/card/{secret}" in welcome.get_body(("plain",)).get_content()

    # Staff sign in and add a stamp at the counter.
    counter = requests.Session()
    signed_in = counter.post(f"{production.url}/login", allow_redirects=False, timeout=10, data={
        "email": team.staff.email, "password": factories.PASSWORD,
        "csrf_token": csrf_token(counter.get(f"{production.url}/login", timeout=10))})
    assert signed_in.status_code == 302, signed_in.text
    token = csrf_token(counter.get(f"{production.url}/terminal/store", timeout=10))
    stamped = counter.post(f"{production.url}/terminal/cards/{card_id}/stamp", timeout=10,
                           data={"idempotency_key": uuid.uuid4().hex},
                           headers={**HTMX, "X-CSRFToken": token})
    assert stamped.status_code == 200 and "Stamp added. 1 stamp of 5." in stamped.text

    # 17 quiet days later, at the shop's morning hour: the warning that its points expire.
    with app.app_context():
        card = db.session.get(LoyaltyCard, card_id)
        card.last_activity_at -= timedelta(days=17)
        db.session.commit()
        Queue("default", connection=redis_client.connection).enqueue(start_mornings)
    warning = "Your Café Matin points expire soon"
    production.wait_until(lambda: mail_to(inbox, warning), 20, "the expiry warning")
    assert "50" in mail_to(inbox, warning)[0].get_body(("plain",)).get_content()

    production.wait_until(lambda: emails_sent(production.url) == 2, 10, "/metrics counting both")

    # The schedule ticks, and what it enqueues (the outbox drain, every 5 s) the default worker
    # runs.
    monitor = make_app(REDIS_URL=redis_url, JOBS_INLINE=False)
    production.wait_until(lambda: last_drain(monitor) == "finished", 15, "a drain, run")
    with monitor.app_context():
        assert job_monitor.schedule_health() == "ok"

    for process in production.started:
        process.send_signal(signal.SIGTERM)
    for process in production.started:
        try:
            status = process.wait(10)
        except subprocess.TimeoutExpired:
            status = "still running 10 s after SIGTERM"
        assert status == 0, f"{process.service}: {status}\n{production.logs()}"
    assert len(inbox.messages) == 2, [message["Subject"] for message in inbox.messages]
