"""A pooled connection is pinged only after it sat idle, and replaced when the ping finds
it dropped; one used a moment ago goes out without a round trip."""
import sqlite3

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import QueuePool

from loyalty import database


@pytest.fixture
def engine(tmp_path, monkeypatch):
    engine = create_engine(f"sqlite:///{tmp_path / 'pings.db'}", poolclass=QueuePool)
    database.ping_idle_connections(engine, idle_seconds=10)
    pings = []
    monkeypatch.setattr(engine.dialect, "do_ping", lambda dbapi_connection: pings.append(1))
    engine.pings = pings
    yield engine
    engine.dispose()


def _use(engine):
    with engine.connect() as connection:
        connection.execute(text("select 1"))
        return connection.connection.dbapi_connection


def test_a_connection_used_a_moment_ago_is_not_pinged(engine):
    for _ in range(5):
        _use(engine)
    assert engine.pings == []


def test_a_connection_idle_for_the_setting_is_pinged(engine, monkeypatch):
    _use(engine)
    later = database.time.monotonic() + 11
    monkeypatch.setattr(database.time, "monotonic", lambda: later)
    _use(engine)
    assert engine.pings == [1]


def test_an_idle_connection_the_database_dropped_is_replaced(engine, monkeypatch):
    first = _use(engine)
    later = database.time.monotonic() + 11
    monkeypatch.setattr(database.time, "monotonic", lambda: later)

    def dropped(dbapi_connection):
        raise sqlite3.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(engine.dialect, "do_ping", dropped)
    monkeypatch.setattr(engine.dialect, "is_disconnect", lambda *args: True)
    assert _use(engine) is not first


def test_pings_follow_the_settings(app):
    assert app.config["DB_POOL_PING_IDLE_SECONDS"] == 0
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
