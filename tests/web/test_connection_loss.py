"""The database drops the app's connections (a restart, a failover, an administrator): a
request that starts after it gets a fresh connection; one whose connection dies under it
answers 503 with Retry-After and saves nothing, and the same action sent again counts once.
PostgreSQL only: that is where connections are ended by someone else."""
import uuid

import psycopg
import pytest
from sqlalchemy import event, func, select, text

from loyalty.extensions import db
from loyalty.models import LoyaltyTransaction, TransactionType
from tests import factories
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="connections are ended on PostgreSQL")


def _stamps(card):
    db.session.commit()
    return db.session.scalar(select(func.count(LoyaltyTransaction.id)).where(
        LoyaltyTransaction.card_id == card.id,
        LoyaltyTransaction.transaction_type == TransactionType.STAMP_EARNED))


def _terminate(pids=None):
    """End the app's connections to the test database, as ``pg_terminate_backend`` does
    when the database restarts or an administrator ends them."""
    with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as admin:
        return admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND (%s::int[] IS NULL OR pid = ANY(%s::int[]))", [pids, pids]).fetchone()[0]


@pytest.fixture
def card(merchant):
    factories.stamp_program(merchant.merchant)
    return factories.card(merchant.merchant, "Ida Stamp", email="ida@example.com")


def test_a_connection_ended_before_the_request_is_replaced(terminal, merchant, card):
    terminal.sign_in(merchant.staff)
    assert terminal.find(card.card_number).status_code == 200  # connections in the pool now
    assert _terminate() >= 1
    stamped = terminal.act(card.id, "stamp")
    assert stamped.status_code == 200 and "Stamp added." in stamped.text
    assert _stamps(card) == 1


def test_a_connection_ended_under_the_request_is_a_503_and_the_retry_counts_once(
        app, terminal, merchant, card):
    terminal.sign_in(merchant.staff)
    ended = []

    def end_own_connection(conn, cursor, statement, parameters, context, executemany):
        # The ledger's INSERT (on PostgreSQL it carries the card's UPDATE in a WITH before it).
        if not ended and "INSERT INTO LOYALTY_TRANSACTIONS" in statement.upper():
            ended.append(_terminate([conn.connection.dbapi_connection.info.backend_pid]))

    event.listen(db.engine, "before_cursor_execute", end_own_connection)
    key = uuid.uuid4().hex
    try:
        lost = terminal.act(card.id, "stamp", key=key)
    finally:
        event.remove(db.engine, "before_cursor_execute", end_own_connection)
    assert ended == [1]
    assert lost.status_code == 503 and lost.headers["Retry-After"] == "2"
    assert "this may not have been saved. Try again in a few seconds." in lost.text
    assert _stamps(card) == 0
    retried = terminal.act(card.id, "stamp", key=key)
    again = terminal.act(card.id, "stamp", key=key)  # a double tap on top: still one stamp
    assert retried.status_code == 200 and "Stamp added." in retried.text
    assert again.status_code == 200
    assert _stamps(card) == 1
    assert db.session.execute(text("SELECT 1")).scalar() == 1
