"""Engine settings and the write transaction that keeps concurrent writers from racing.

A plain pysqlite transaction starts DEFERRED: two connections can both read a balance and
then both write it. Following SQLAlchemy's documented pysqlite recipe we take over BEGIN, and
a use case that reads then writes starts its transaction with ``BEGIN IMMEDIATE`` through
``write_transaction()``: the write lock is held from the first statement and a second writer
waits (busy timeout) instead of acting on stale data. Other transactions stay DEFERRED, so
readers never queue behind writers (WAL). On PostgreSQL the services lock rows themselves
(``SELECT ... FOR UPDATE`` or a conditional ``UPDATE``).
"""
from contextlib import contextmanager

from sqlalchemy import event, tuple_
from sqlalchemy.orm import Session

from loyalty.extensions import db

IMMEDIATE = "loyalty_sqlite_immediate"
#: Functions called after a write transaction commits (the outbox hands over its rows).
AFTER_COMMIT_HOOKS = []
#: Set on a session while it holds flushed writes not yet committed.
FLUSHED = "loyalty_flushed_writes"


def configure_engine(engine):
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


def read_in_pages(query, *keys, size=1000):
    """Every row of ``query`` in the order of ``keys`` (unique together), without the keys.

    Rows are read ``size`` at a time (keyset: each page starts after the last row's keys),
    and each page is a short read of its own: fetched whole, then its transaction ends
    (loaded objects kept). No cursor or transaction is held between pages, so a response
    streamed to a slow client holds no connection, and nothing relies on the request's
    session outliving the view: Flask closes that session before a streamed body is read,
    and a server-side cursor opened in it is gone by then ("cursor does not exist").
    """
    width = len(keys)
    paged = query.add_columns(*keys).order_by(None).order_by(*keys).limit(size)
    after = None
    while True:
        page = paged
        if after is not None:
            page = page.where(keys[0] > after[0] if width == 1 else tuple_(*keys) > after)
        rows = db.session.execute(page).all()
        _commit_keeping_state(db.session())
        for row in rows:
            yield tuple(row[:-width])
        if len(rows) < size:
            return
        after = tuple(rows[-1][-width:])


def in_write_transaction():
    """True inside ``write_transaction()``: writes may go straight into the current transaction."""
    return db.session().info.get("in_write_transaction", False)
