"""Two web machines behind one load balancer: two gunicorn servers (two workers each, as
``gunicorn.conf.py`` runs them) on two ports, one PostgreSQL database, one Redis. A person's
requests land on either: signed in on one, they act on the other; an owner's program change
made on one is what the counter on the other shows at once; wrong passwords on both add up to
one lockout; a logo uploaded on one is served by the other.

PostgreSQL (``TEST_DATABASE_URL``) and Redis (``REDIS_URL``, else ``TEST_REDIS_URL``) only:
skipped on the SQLite phase, and without Redis, unless ``REQUIRE_REDIS=1`` makes a missing
Redis a failure. The servers use a database of their own on the same PostgreSQL server,
migrated by ``flask db upgrade`` as an operator runs it, and dropped afterwards.
"""
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import uuid

import httpx
import pytest
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from loyalty import create_app
from loyalty.config import normalize_database_url
from loyalty.extensions import db
from tests import factories, images
from tests.conftest import CSRF_FIELD
from tests.jobs.processes import ROOT, wait_until

BIN = os.path.dirname(sys.executable)
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or ""
REDIS_URL = os.environ.get("REDIS_URL") or os.environ.get("TEST_REDIS_URL")
PAUSED = re.compile(r"Too many failed sign-in attempts\. Try again in \d+ (hours?|minutes?)")
STAMP_COUNT = re.compile(r'data-testid="stamp-count">\d+</strong> / (\d+)')
#: The program's settings on the owner's form, the new stamps target and reward filled in.
CHANGED_PROGRAM = {
    "program_type": "stamps", "card_name": "Coffee card", "stamps_target": "8",
    "stamp_reward_description": "A slice of cake", "stamp_reward_value": "3.50",
    "cooldown_minutes": "15", "max_stamps_per_day": "5",
}


def _needs_postgres_and_redis():
    if not TEST_DATABASE_URL.startswith(("postgresql", "postgres:")):
        pytest.skip("two servers share one PostgreSQL database (TEST_DATABASE_URL)")
    problem = "no REDIS_URL or TEST_REDIS_URL"
    if REDIS_URL:
        connection = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        try:
            connection.ping()
            return
        except RedisError as error:
            problem = f"Redis at {REDIS_URL} does not answer: {error}"
        finally:
            connection.close()
    if os.environ.get("REQUIRE_REDIS") == "1":
        pytest.fail(problem)
    pytest.skip(f"{problem} (REQUIRE_REDIS=1 makes this a failure)")


@pytest.fixture
def shared_database():
    """A database of the test's own on the test PostgreSQL server, dropped afterwards."""
    _needs_postgres_and_redis()
    server = make_url(normalize_database_url(TEST_DATABASE_URL))
    name = f"{server.database}_two_servers"[:63]
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Servers:
    """gunicorn servers started from the checkout as the web unit runs them; ``stop`` sends
    SIGTERM (a graceful stop) and expects a clean exit."""

    def __init__(self, directory, env):
        self.directory, self.env = directory, env
        self.started = []

    def start(self):
        port = _free_port()
        log = self.directory / f"gunicorn-{port}.log"
        with open(log, "w") as output:
            process = subprocess.Popen(
                [os.path.join(BIN, "gunicorn"), "--config", "gunicorn.conf.py", "wsgi:app",
                 "--bind", f"127.0.0.1:{port}", "--workers", "2",
                 # Two masters on one machine would share the default control socket's path.
                 "--no-control-socket"],
                cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT)
        process.log, process.url = log, f"http://127.0.0.1:{port}"
        self.started.append(process)
        return process

    def wait_ready(self, process):
        def ready():
            assert process.poll() is None, f"gunicorn exited:\n{process.log.read_text()[-3000:]}"
            try:
                return httpx.get(f"{process.url}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False
        try:
            wait_until(ready, 60, f"gunicorn at {process.url} answering /healthz", interval=0.2)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{process.log.read_text()[-3000:]}") from None

    def stop(self):
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        return [process.returncode for process in self.started]


def _server_env(database_url, prefix):
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("TEST_", "PROMETHEUS_")) and name != "DATABASE_URL"}
    return {**env, "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL,
            "SECRET_KEY": "two-servers-share-this-secret", "LOYALTY_ENV": "development",
            "BCRYPT_ROUNDS": "4", "PIN_BCRYPT_ROUNDS": "4", "RATELIMIT_KEY_PREFIX": prefix,
            # Three failed sign-ins for one account from one address, whichever server
            # counted them (a day's window: the test never straddles its end but at midnight).
            "LOGIN_ACCOUNT_ADDRESS_LIMIT": "3 per day", "INLINE_SCHEDULE": "0",
            # No worker runs here: what the outbox asks for (nothing sent for this shop: no
            # wallets, no email) is done in the request, not left queued in a shared Redis.
            "JOBS_INLINE": "1"}


def _shop(database_url):
    """An owner, a store, a 10-stamp program and a card, written as the app writes them."""
    app = create_app({"TESTING": True, "SECRET_KEY": "setup", "SERVER_NAME": "localhost",
                      "SQLALCHEMY_DATABASE_URI": normalize_database_url(database_url),
                      "JOBS_INLINE": True, "BCRYPT_ROUNDS": 4, "PIN_BCRYPT_ROUNDS": 4})
    with app.app_context():
        team = factories.merchant_with_team("Two Machines Café", "two-machines")
        factories.stamp_program(team.merchant)
        card = factories.card(team.merchant, "Dora Double")
        shop = {"owner": team.owner.email, "manager": team.manager.email,
                "store": team.stores[0].id, "card": card.id, "slug": team.merchant.slug}
        db.session.remove()
        db.engine.dispose()
    return shop


def _token(browser, url):
    page = browser.get(url)
    assert page.status_code == 200, (url, page.status_code)
    return CSRF_FIELD.search(page.text).group(1)


def _sign_in(browser, server, email, password):
    token = _token(browser, f"{server}/login")
    return browser.post(f"{server}/login",
                        data={"email": email, "password": password, "csrf_token": token})


def _stamps_target(browser, server, card_id):
    """The stamps a reward takes, as the counter's card panel shows them."""
    panel = browser.get(f"{server}/terminal/cards/{card_id}")
    assert panel.status_code == 200, panel.text[:300]
    return int(STAMP_COUNT.search(panel.text).group(1))


def test_two_servers_on_one_database_and_redis_act_as_one(shared_database, tmp_path):
    prefix = f"two-servers-{uuid.uuid4().hex[:8]}"
    env = _server_env(shared_database, prefix)
    migrated = subprocess.run([os.path.join(BIN, "flask"), "--app", "wsgi", "db", "upgrade"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    shop = _shop(shared_database)
    servers = Servers(tmp_path, env)
    one, two = servers.start(), servers.start()
    try:
        servers.wait_ready(one)
        servers.wait_ready(two)
        a, b = one.url, two.url
        headers = {"Accept-Language": "en"}
        with httpx.Client(headers=headers, timeout=10) as owner:
            # Signed in on A; the session (its cookie) works on B: the store is chosen there.
            assert _sign_in(owner, a, shop["owner"], factories.PASSWORD).status_code == 302
            chosen = owner.post(f"{b}/terminal/store", data={
                "store_id": shop["store"], "csrf_token": _token(owner, f"{b}/terminal/store")})
            assert chosen.status_code == 302, chosen.text[:300]
            # Every worker of both servers reads the program (and keeps its copy).
            for server in (a, b, a, b, a, b):
                assert _stamps_target(owner, server, shop["card"]) == 10

            # The owner changes the program on B; the counter on A shows it at once.
            saved = owner.post(f"{b}/merchant/program", data={
                **CHANGED_PROGRAM, "csrf_token": _token(owner, f"{b}/merchant/program")})
            assert saved.status_code == 302, saved.text[:500]
            for _ in range(4):
                assert _stamps_target(owner, a, shop["card"]) == 8

            # A logo uploaded on A is on B's branding page, and served by B.
            logo = images.encoded(64, 64)
            uploaded = owner.post(f"{a}/merchant/branding", data={
                "card_name": "Coffee card", "primary_color": "#1d5c4d",
                "secondary_color": "#ffffff", "terms_text": "", "privacy_url": "",
                "csrf_token": _token(owner, f"{a}/merchant/branding")},
                files={"logo": ("logo.png", logo, "image/png")})
            assert uploaded.status_code == 302, uploaded.text[:500]
            url = re.search(r'src="(/media/[0-9a-f]{64}\.png)"',
                            owner.get(f"{b}/merchant/branding").text).group(1)
            served = httpx.get(f"{b}{url}")
            assert served.status_code == 200 and served.headers["Content-Type"] == "image/png"
            assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            assert url == f"/media/{hashlib.sha256(served.content).hexdigest()}.png"
            assert httpx.get(f"{a}{url}").content == served.content

            # Signing out on B ends the session on A too.
            token = _token(owner, f"{b}/account")
            assert owner.post(f"{b}/logout", data={"csrf_token": token}).status_code == 302
            gone = owner.get(f"{a}/merchant/")
            assert gone.status_code == 302 and "/login" in gone.headers["Location"]

        # Wrong passwords on A and B count against one budget: the fourth attempt, the right
        # password on either server, meets the pause.
        with httpx.Client(headers=headers, timeout=10) as guesser:
            for server in (a, b, a):
                wrong = _sign_in(guesser, server, shop["manager"], "not-the-password")
                assert wrong.status_code == 401, wrong.text[:300]
            for server in (b, a):
                paused = _sign_in(guesser, server, shop["manager"], factories.PASSWORD)
                assert paused.status_code == 429 and PAUSED.search(paused.text), paused.text[:300]
    finally:
        exits = servers.stop()
        redis = Redis.from_url(REDIS_URL)
        for key in redis.scan_iter(f"*{prefix}*"):
            redis.delete(key)
        redis.close()
    assert exits == [0, 0], [process.log.read_text()[-2000:] for process in servers.started]
