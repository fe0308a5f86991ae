"""Fixtures: an app per test on a freshly migrated database, and actions that read like the domain.

SQLite (default): the schema is migrated once into a template file, copied for each test.
PostgreSQL (``TEST_DATABASE_URL``): migrated once, every table truncated after each test.
``REDIS_URL``, when set, backs rate limits (with a key prefix per test) and the health check.
"""
import os
import re
import shutil
import threading
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from loyalty import clock, create_app, throttle
from loyalty.config import normalize_database_url
from loyalty.extensions import attempt_counters, db
from loyalty.services.engine.ledger import ActionContext
from tests import factories

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
ON_POSTGRES = bool(TEST_DATABASE_URL)


def _base_config(database_url):
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SERVER_NAME": "localhost",
        "JOBS_INLINE": True,
        "BCRYPT_ROUNDS": 4,  # the cost factor is not under test; keeps the suite fast
        "PIN_BCRYPT_ROUNDS": 4,
        "RATELIMIT_KEY_PREFIX": "loyalty-test",
    }


def _migrate(database_url):
    app = create_app(_base_config(database_url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


#: 30 s into a minute, five minutes and an hour: the attempt budgets' clock-aligned windows.
ATTEMPT_CLOCK = 1_800_000_030.0


@pytest.fixture(autouse=True)
def _attempt_windows_held_still(monkeypatch):
    """Attempt budgets count in windows aligned on the clock: a test whose attempts straddled a
    minute boundary would start a fresh window halfway and see a pause come late. Their clock
    stands still in the middle of a window during tests."""
    monkeypatch.setattr(throttle, "time", SimpleNamespace(time=lambda: ATTEMPT_CLOCK))


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """The migrated database: a template file on SQLite, the test database on PostgreSQL."""
    if ON_POSTGRES:
        url = normalize_database_url(TEST_DATABASE_URL)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        _migrate(url)
        return url
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def database_url(database_template, tmp_path):
    if ON_POSTGRES:
        yield database_template
        engine = create_engine(database_template)
        with engine.begin() as conn:
            tables = conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )).scalars().all()
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        engine.dispose()
    else:
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(database_template, path)
        yield f"sqlite:///{path}"


class RequestScopedClient(FlaskClient):
    """Each request gets its own app context, hence its own database session, as in production.

    Without this, requests would share the test's session and answer from its identity map.
    """

    def open(self, *args, **kwargs):
        self._end_test_transaction()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        self._end_test_transaction()
        return response

    @staticmethod
    def _end_test_transaction():
        """Commit the test's own session, so neither side reads a snapshot older than the other."""
        if has_app_context():
            db.session.commit()


@pytest.fixture
def make_app(database_url):
    """Build an app on the test database with extra settings; the default ``app`` uses none."""
    apps = []

    def build(**overrides):
        app = create_app({**_base_config(database_url), **overrides})
        app.test_client_class = RequestScopedClient
        with app.app_context():
            attempt_counters.reset()  # counters live in Redis on the PostgreSQL run: start each test clean
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


#: The sign-in pause message; windows are aligned on the clock, so up to 5 minutes are left.
PAUSED = re.compile(r"Too many failed sign-in attempts\. Try again in [1-5] minutes?, or ask")
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(response):
    match = CSRF_FIELD.search(response.get_data(as_text=True))
    assert match, "page has no CSRF token"
    return match.group(1)


def choose_language(client, code, next_url="", *, page="/login"):
    """Pick ``code`` in the language menu of ``page``, as a browser posts it."""
    token = csrf_token_from(client.get(page, follow_redirects=True))
    return client.post(f"/lang/{code}", data={"csrf_token": token, "next": next_url})


class AuthActions:
    """Sign in and out through the real pages, as a person would."""

    def __init__(self, client):
        self.client = client

    def login(self, email, password=factories.PASSWORD, **kwargs):
        token = csrf_token_from(self.client.get("/login"))
        return self.client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}, **kwargs
        )

    def login_as(self, user):
        response = self.login(user.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def logout(self):
        token = csrf_token_from(self.client.get("/", follow_redirects=True))
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def merchant(app):
    return factories.merchant_with_team("Café Test", "cafe-test")


@pytest.fixture
def other_merchant(app):
    return factories.merchant_with_team("Other Bakery", "other-bakery")


class FrozenClock:
    """Business time under the test's control: ``clock.advance(minutes=15)``."""

    def __init__(self, start):
        self.now = start
        clock.set_frozen(start)

    def set(self, moment):
        self.now = moment
        clock.set_frozen(moment)

    def advance(self, **delta):
        self.set(self.now + timedelta(**delta))


@pytest.fixture
def frozen_clock():
    yield FrozenClock(datetime(2026, 6, 15, 10, 0, tzinfo=UTC))
    clock.set_frozen(None)


@pytest.fixture
def counter(merchant):
    """What a terminal at the merchant's first store sends along with each action."""
    return ActionContext(store_id=merchant.stores[0].id, user_id=merchant.staff.id)


def run_cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


class Terminal:
    """A tablet at the counter: signed in, store chosen, talking HTMX like the real page."""

    HTMX = {"HX-Request": "true"}

    def __init__(self, client, auth):
        self.client = client
        self.auth = auth
        self.token = None

    def sign_in(self, user, store=None):
        self.auth.login_as(user)
        page = self.client.get("/terminal/store")
        self.token = csrf_token_from(page)
        if store is not None:
            self.client.post("/terminal/store", data={"store_id": store.id, "csrf_token": self.token})
        return self

    def find(self, query, htmx=True):
        return self.client.get("/terminal/find", query_string={"q": query},
                               headers=self.HTMX if htmx else {})

    def sheet(self, card_id, kind, **params):
        return self.client.get(f"/terminal/cards/{card_id}/sheet/{kind}", query_string=params,
                               headers=self.HTMX)

    def act(self, card_id, kind, key=None, **data):
        data.setdefault("idempotency_key", key or uuid.uuid4().hex)
        return self.client.post(f"/terminal/cards/{card_id}/{kind}", data=data,
                                headers={**self.HTMX, "X-CSRFToken": self.token})

    def enroll(self, **data):
        data.setdefault("idempotency_key", uuid.uuid4().hex)
        return self.client.post("/terminal/enroll", data=data,
                                headers={**self.HTMX, "X-CSRFToken": self.token})


@pytest.fixture
def terminal(client, auth):
    return Terminal(client, auth)


@pytest.fixture
def serve():
    """Serve an app on a free local port in a thread (many requests at once, as in production);
    ``serve(app).url`` is its address. Stopped after the test."""
    servers = []

    def start(app):
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        server.app = app
        server.url = f"http://127.0.0.1:{server.server_port}"
        servers.append((server, thread))
        return server

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join(timeout=10)
