"""Background work against the real Redis (RQ workers in burst mode) and a real SMTP server.

Redis: ``TEST_REDIS_URL`` (default database 14 of the local server), emptied around each
test. Without a Redis server these tests are skipped, unless ``REQUIRE_REDIS=1`` (CI) makes
that a failure. Fault tests start a ``redis-server`` of their own (``redis_server``), and
``worker.py`` processes (``processes``).
"""
import asyncio
import os
import shutil
import socket
import threading
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from redis import Redis
from redis.exceptions import RedisError
from rq import SimpleWorker

from loyalty.jobs import QUEUES
from loyalty.jobs.processes import ShortCommandReads
from tests.jobs.processes import Processes, RedisServer

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
#: A port nothing listens on: Redis or SMTP "down".
CLOSED_PORT_URL = "redis://127.0.0.1:9/0"


@pytest.fixture
def redis_url():
    connection = Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2)
    try:
        connection.ping()
    except RedisError as error:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis at {TEST_REDIS_URL} does not answer: {error}")
        pytest.skip(f"no Redis at {TEST_REDIS_URL} (REQUIRE_REDIS=1 makes this a failure)")
    connection.flushdb()
    yield TEST_REDIS_URL
    connection.flushdb()
    connection.close()


@pytest.fixture
def rq_app(make_app, redis_url):
    """The app with jobs on RQ; failing jobs retry twice at once (no backoff to wait for)."""
    app = make_app(REDIS_URL=redis_url, JOBS_INLINE=False, JOB_RETRY_DELAYS=[0, 0])
    with app.app_context():
        yield app


class InProcessWorker(ShortCommandReads, SimpleWorker):
    """RQ's worker running each job in this process, which stops at once when done."""


def work(app, queues=QUEUES):
    """Run an RQ worker in this process until the queues are empty."""
    from loyalty.extensions import redis_client  # noqa: PLC0415

    with app.app_context():
        worker = InProcessWorker(list(queues), connection=redis_client.connection)
        worker.work(burst=True, with_scheduler=False)


class Inbox:
    """A real SMTP server on a free local port that keeps what it receives. ``hold()`` makes
    the next sender wait after MAIL FROM until ``release()`` (a job stuck mid-send);
    ``refuse(n)`` answers the next n senders "try again later"."""

    def __init__(self):
        self.messages = []
        self.holding = threading.Event()
        self.sender_waiting = threading.Event()
        self.released = threading.Event()
        self.refusals = 0

    def refuse(self, count):
        self.refusals = count

    def hold(self):
        self.holding.set()

    def release(self):
        self.holding.clear()
        self.released.set()

    async def handle_MAIL(self, server, session, envelope, address, options):  # noqa: N802
        if self.holding.is_set():
            self.sender_waiting.set()
            while not self.released.is_set():
                await asyncio.sleep(0.05)
            return "421 Closing, try again"
        if self.refusals:
            self.refusals -= 1
            return "451 Try again later"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def inbox():
    handler = Inbox()
    handler.port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    handler.release()
    controller.stop()


def _require(what, reason):
    if os.environ.get("REQUIRE_REDIS") == "1":
        pytest.fail(f"{what}: {reason}")
    pytest.skip(f"{what}: {reason} (REQUIRE_REDIS=1 makes this a failure)")


@pytest.fixture
def redis_server(tmp_path):
    """A redis-server of this test's own, on a free port: the test stops and starts it."""
    if shutil.which("redis-server") is None:
        _require("redis-server", "not installed")
    (tmp_path / "redis").mkdir()
    server = RedisServer(free_port(), tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def processes(tmp_path, database_url, redis_server, inbox):
    """Start ``worker.py`` processes on the test database, ``redis_server`` and ``inbox``;
    every one still running is SIGKILLed at the end."""
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_server.url,
           "SECRET_KEY": "test-secret", "LOYALTY_ENV": "development", "SMTP_HOST": "127.0.0.1",
           "SMTP_PORT": str(inbox.port), "SMTP_SECURITY": "none", "JOB_RETRY_DELAYS": "0,0"}
    started = Processes(tmp_path, env)
    yield started
    started.stop_all()
