"""Every Flask extension is created here, unbound; ``create_app`` binds them."""
import logging
import time

from flask import current_app
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from redis import Redis
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names keep Alembic diffs clean on PostgreSQL and SQLite alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


class AttemptCounters:
    """Where the attempt budgets (``throttle.py``) count: the ``limits`` library's storage,
    Redis when configured (shared by every worker), else this process's memory. Only a
    sign-in or a PIN touches it; no other request pays for it."""

    def init_app(self, app):
        uri = app.config["RATELIMIT_STORAGE_URI"]
        if uri.startswith("memory://"):
            app.extensions["attempt_counters"] = storage_from_string(uri)
        else:
            app.extensions["attempt_counters"] = CountersWithFallback(storage_from_string(
                uri, wrap_exceptions=True, socket_connect_timeout=2, socket_timeout=2))

    @property
    def storage(self):
        return current_app.extensions["attempt_counters"]

    def reset(self):
        """Forget every count (tests start each one clean)."""
        self.storage.reset()


attempt_counters = AttemptCounters()


class CountersWithFallback:
    """Shared counters (Redis), or for half a minute this process's own when they do not
    answer: sign-in and staff PINs keep working while Redis is down, each process then
    counting attempts on its own (the per-PIN lockout in the database still holds)."""

    RETRY_SECONDS = 30

    def __init__(self, shared):
        self.shared = shared
        self.local = MemoryStorage()
        self.down_until = 0.0

    def _call(self, name, *args, **kwargs):
        if time.monotonic() >= self.down_until:
            try:
                return getattr(self.shared, name)(*args, **kwargs)
            except StorageError as error:
                logging.getLogger(__name__).warning(
                    "attempt counters unavailable (%s): counting in this process", error)
                self.down_until = time.monotonic() + self.RETRY_SECONDS
        return getattr(self.local, name)(*args, **kwargs)

    def incr(self, key, expiry, amount=1):
        return self._call("incr", key, expiry, amount=amount)

    def get(self, key):
        return self._call("get", key)

    def clear(self, key):
        return self._call("clear", key)

    def reset(self):
        self.local.reset()
        return self._call("reset")


class RedisClient:
    """The app's Redis connection, or None on the embedded default (no ``REDIS_URL``)."""

    def init_app(self, app):
        url = app.config.get("REDIS_URL")
        app.extensions["redis"] = (
            Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5) if url else None
        )

    @property
    def connection(self):
        return current_app.extensions.get("redis")


redis_client = RedisClient()
