"""Every Flask extension is created here, unbound; ``create_app`` binds them."""
from flask import current_app
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from limits.storage import storage_from_string
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
        app.extensions["attempt_counters"] = storage_from_string(
            app.config["RATELIMIT_STORAGE_URI"])

    @property
    def storage(self):
        return current_app.extensions["attempt_counters"]

    def reset(self):
        """Forget every count (tests start each one clean)."""
        self.storage.reset()


attempt_counters = AttemptCounters()


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
