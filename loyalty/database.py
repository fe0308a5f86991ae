"""Engine settings and the write transaction that keeps concurrent writers from racing.

A plain pysqlite transaction starts DEFERRED: two connections can both read a balance and
then both write it. Following SQLAlchemy's documented pysqlite recipe we take over BEGIN, and
a use case that reads then writes starts its transaction with ``BEGIN IMMEDIATE`` through
``write_transaction()``: the write lock is held from the first statement and a second writer
waits (busy timeout) instead of acting on stale data. Other transactions stay DEFERRED, so
readers never queue behind writers (WAL). On PostgreSQL the services lock rows themselves
(``SELECT ... FOR UPDATE`` or a conditional ``UPDATE``).

Reads that may lag a little (statistics, exports, the back office's figures) go through
``replica_session()``: a read-only session on ``DATABASE_REPLICA_URL`` when it is set, else the
request's own session, exactly as without a replica.
"""
import time
from contextlib import contextmanager

from flask.globals import app_ctx
from sqlalchemy import event, func, select, text, tuple_
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, scoped_session

from loyalty.config import normalize_database_url
from loyalty.extensions import db

IMMEDIATE = "loyalty_sqlite_immediate"
#: Functions called after a write transaction commits (the outbox hands over its rows).
AFTER_COMMIT_HOOKS = []
#: Set on a session while it holds flushed writes not yet committed.
FLUSHED = "loyalty_flushed_writes"
#: The read replica's key in ``SQLALCHEMY_BINDS`` (set from ``DATABASE_REPLICA_URL``).
REPLICA = "replica"
#: When a pooled connection was last given back (``ping_idle_connections``).
IDLE_SINCE = "loyalty_idle_since"


def configure_engine(engine, *, ping_idle_seconds=None):
    """The engine's pings (``ping_idle_seconds``: see ``ping_idle_connections``) and, on
    SQLite, WAL and the BEGIN we emit ourselves."""
    if ping_idle_seconds is not None:
        ping_idle_connections(engine, ping_idle_seconds)
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        immediate = connection.get_execution_options().get(IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def ping_idle_connections(engine, idle_seconds):
    """SQLAlchemy's pessimistic disconnect handling for a connection that sat in the pool for
    ``idle_seconds`` or more: pinged at checkout, and replaced when the database dropped it.
    One used a moment ago (a busy worker's, request after request) goes out without a round
    trip; a drop while it was in use fails that statement and the pool discards its
    connections of before the drop."""

    @event.listens_for(engine, "checkin")
    def _note_idle(dbapi_connection, connection_record):
        connection_record.info[IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, connection_record, connection_proxy):
        idle_since = connection_record.info.get(IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return  # just opened, or just used
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise DisconnectionError() from error  # the pool connects again
            raise


@contextmanager
def write_transaction():
    """One use case, one transaction that holds the write lock from its first statement.

    Commits on success, rolls back on any error. On SQLite whatever the session was reading
    before is committed first; either way the use case never decides on a stale snapshot:
    what it decides on (the card, its balances) it reads again inside, under its lock, with
    ``populate_existing``.
    """
    session = db.session()  # the request's Session itself, not the scoped proxy
    if session.in_transaction() and (_is_sqlite(session) or session.new or session.dirty
                                     or session.deleted or session.info.get(FLUSHED)):
        # SQLite takes its write lock at BEGIN IMMEDIATE: end the read transaction first.
        # PostgreSQL's reads so far (read committed) carry on into the use case: what it
        # decides on, it reads again under its row locks, and one transaction saves a
        # COMMIT and a BEGIN.
        _commit_keeping_state(session)
    if not session.in_transaction():
        session.connection(execution_options={IMMEDIATE: True})
    session.info["in_write_transaction"] = True
    try:
        yield session
        _commit_keeping_state(session)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop("in_write_transaction", None)
    for hook in AFTER_COMMIT_HOOKS:
        hook()


def _is_sqlite(session):
    return session.get_bind().dialect.name == "sqlite"


def _commit_keeping_state(session):
    """Commit without expiring loaded objects: what the use case just wrote under its lock is
    what the database now holds, so the page that follows need not read it all again."""
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


@event.listens_for(Session, "after_flush")
def _note_flushed_writes(session, _flush_context):
    session.info[FLUSHED] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_flushed_writes(session, *_args):
    session.info.pop(FLUSHED, None)


def read_in_pages(query, *keys, size=1000, replica=False):
    """Every row of ``query`` in the order of ``keys`` (unique together), without the keys.

    Rows are read ``size`` at a time (keyset: each page starts after the last row's keys),
    and each page is a short read of its own: fetched whole, then its transaction ends
    (loaded objects kept). No cursor or transaction is held between pages, so a response
    streamed to a slow client holds no connection, and nothing relies on the request's
    session outliving the view: Flask closes that session before a streamed body is read,
    and a server-side cursor opened in it is gone by then ("cursor does not exist").
    ``replica``: read through ``replica_session()``.
    """
    session = replica_session() if replica else db.session()
    width = len(keys)
    paged = query.add_columns(*keys).order_by(None).order_by(*keys).limit(size)
    after = None
    while True:
        page = paged
        if after is not None:
            page = page.where(keys[0] > after[0] if width == 1 else tuple_(*keys) > after)
        rows = session.execute(page).all()
        _commit_keeping_state(session)
        for row in rows:
            yield tuple(row[:-width])
        if len(rows) < size:
            return
        after = tuple(rows[-1][-width:])


def in_write_transaction():
    """True inside ``write_transaction()``: writes may go straight into the current transaction."""
    return db.session().info.get("in_write_transaction", False)


# --- the read replica ----------------------------------------------------------------------


class ReplicaWriteRefused(RuntimeError):
    """A write was attempted through the read replica's session: a bug, never a user's error."""


class ReadOnlySession(Session):
    """The replica's session: a flush or an INSERT, UPDATE or DELETE is refused here, before
    the database (which refuses too: a read-only transaction, ``PRAGMA query_only``)."""


@event.listens_for(ReadOnlySession, "before_flush")
def _refuse_flush(session, _flush_context, _instances):
    if session.new or session.dirty or session.deleted:
        raise ReplicaWriteRefused("the replica's session is read-only: write on db.session")


@event.listens_for(ReadOnlySession, "do_orm_execute")
def _refuse_write_statements(execute_state):
    if execute_state.is_insert or execute_state.is_update or execute_state.is_delete:
        raise ReplicaWriteRefused("the replica's session is read-only: write on db.session")


#: One replica session per app context, as Flask-SQLAlchemy keeps ``db.session``.
_replica_sessions = scoped_session(
    lambda: ReadOnlySession(bind=db.engines[REPLICA], expire_on_commit=False),
    scopefunc=lambda: id(app_ctx._get_current_object()))


def bind_replica(config):
    """Before ``db.init_app``: ``DATABASE_REPLICA_URL``, when set, becomes the ``replica`` bind
    (an engine of its own, with the same engine options as the primary)."""
    url = config.get("DATABASE_REPLICA_URL")
    if url:
        config["SQLALCHEMY_BINDS"] = {**(config.get("SQLALCHEMY_BINDS") or {}),
                                      REPLICA: normalize_database_url(url)}


def configure_replica(app):
    """In the app context, after ``db.init_app``: the replica's connections read only (psycopg
    begins each transaction READ ONLY, with no session state a pooler would carry over;
    SQLite's ``query_only``), and its session ends with the app context."""
    app.teardown_appcontext(lambda _error: _replica_sessions.remove())
    engine = db.engines.get(REPLICA)
    if engine is None:
        return

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_connection, _connection_record):
        if engine.dialect.name == "sqlite":
            dbapi_connection.execute("PRAGMA query_only = ON")
        else:
            dbapi_connection.read_only = True


def without_jit(session):
    """``session`` with PostgreSQL's JIT off for the rest of its transaction (``SET LOCAL``:
    nothing outlives the transaction, no pooler carries it over), for the big reads: at 20
    million ledger rows JIT spent 6.6 s compiling a statistics statement that ran in 3 s
    (``bench/platform_scale.py``). Nothing on SQLite. Returns ``session``."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))
    return session


def replica_session(*, complete_through=None):
    """The session for reads that may lag the primary by the replica's delay: the replica's
    read-only session when ``DATABASE_REPLICA_URL`` is set, else the request's ``db.session``
    (everything on the primary, as without a replica). Never for a read that decides a write
    or must show the user's own change just made.

    ``complete_through``: the read needs every row committed before this instant (figures kept
    for good); a standby that has not replayed that far answers with the primary instead."""
    if REPLICA not in db.engines:
        return db.session()
    session = _replica_sessions()
    if complete_through is not None and not _replayed_through(session, complete_through):
        return db.session()
    return session


def _replayed_through(session, moment):
    """Whether the replica holds every transaction the primary committed before ``moment``: a
    PostgreSQL standby's last replayed commit is that late (NULL: not a standby, nothing to
    wait for); any other replica is taken as caught up."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    replayed = session.scalar(select(func.pg_last_xact_replay_timestamp()))
    return replayed is None or replayed >= moment
