"""The read replica (``DATABASE_REPLICA_URL``): the lag-tolerant reads (statistics, retention,
exports, the statement, the back office's figures) go through its engine and nothing else does;
unset, everything stays on the primary; a write through its session fails.

The replica is the test database itself under a second, read-only engine (a real standby
replays the primary), except in the SQLite test of a replica elsewhere, which answers from a
database of its own."""
import shutil
from contextlib import contextmanager
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import event, text, update
from sqlalchemy.exc import DBAPIError

from loyalty import database
from loyalty.database import REPLICA, ReplicaWriteRefused, replica_session
from loyalty.extensions import db
from loyalty.models import LoyaltyCard, Merchant
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.points import earn_points, redeem_reward
from loyalty.services.engine.stamps import add_stamp
from loyalty.services.engine.voids import void_points
from loyalty.services.merchant import exports, programs, stats
from loyalty.services.merchant.retention_snapshots import figures_for
from loyalty.services.merchant.statement import statement
from loyalty.services.merchant.statement_periods import Period
from loyalty.services.platform import stats as platform_stats
from tests import factories
from tests.conftest import ON_POSTGRES


@pytest.fixture
def app(make_app, database_url):
    """The app with its replica: the same database through a read-only engine of its own."""
    app = make_app(DATABASE_REPLICA_URL=database_url)
    with app.app_context():
        yield app
        db.session.remove()


@contextmanager
def statements():
    """{"primary": [...], "replica": [...]}: the SQL each engine runs inside the block."""
    seen = {"primary": [], "replica": []}
    engines = {"primary": db.engines[None], "replica": db.engines.get(REPLICA)}
    listeners = []
    for name, engine in engines.items():
        if engine is None:
            continue

        def note(_conn, _cursor, sql, _params, _context, _many, name=name):
            seen[name].append(sql)
        event.listen(engine, "before_cursor_execute", note)
        listeners.append((engine, note))
    try:
        yield seen
    finally:
        for engine, note in listeners:
            event.remove(engine, "before_cursor_execute", note)
    database._replica_sessions.remove()  # the next reads see what was committed since


def touching(sqls, table):
    return [sql for sql in sqls if table in sql]


def ledger_or_cards(sqls):
    return [sql for sql in sqls if "loyalty_transactions" in sql or "loyalty_cards" in sql]


def queries(sqls):
    """The reads themselves, without SQLite's BEGIN (``database.configure_engine``) or a
    transaction's own settings (``SET LOCAL``)."""
    return [sql for sql in sqls if not sql.startswith(("BEGIN", "SET LOCAL"))]


@pytest.fixture
def shop(merchant, frozen_clock):
    """A hybrid program, two cards, stamps and points (a void, a reward) at the first store."""
    program = factories.hybrid_program(merchant.merchant)
    counter = ActionContext(store_id=merchant.stores[0].id, user_id=merchant.staff.id)
    cards = [factories.card(merchant.merchant, name, store=merchant.stores[0])
             for name in ("Ana", "Ben")]
    cake = programs.add_reward(program, "Cake", 20)
    for card in cards:
        add_stamp(card, context=counter)
        earned = earn_points(card, 1250, context=counter)
    void_points(cards[1], earned.transaction.id, points=5, context=counter)
    redeem_reward(db.session.get(LoyaltyCard, cards[0].id), cake.id, context=counter)
    db.session.commit()
    return SimpleNamespace(merchant=merchant.merchant, stores=merchant.stores, program=program)


def test_without_a_replica_every_read_is_on_the_primary(make_app, merchant, frozen_clock):
    plain = make_app()
    with plain.app_context():
        assert REPLICA not in db.engines
        assert replica_session() is db.session()
        shop = db.session.get(Merchant, merchant.merchant.id)
        program = factories.stamp_program(shop)
        with statements() as seen:
            figures = stats.merchant_stats(shop, program)
            rows = list(exports.card_rows(shop))
            platform_stats.program_list(platform_stats.ProgramFilters())
        assert figures.members == 0 and rows == []
        assert len(touching(seen["primary"], "loyalty_transactions")) >= 3
        assert seen["replica"] == []


def test_statistics_exports_and_the_back_office_read_on_the_replica(shop, frozen_clock):
    merchant, program = shop.merchant, shop.program
    with statements() as seen:
        figures = stats.merchant_stats(merchant, program)
        manager = stats.merchant_stats(merchant, program, store_ids=[shop.stores[0].id])
    assert (figures.members, figures.recent["stamps_issued"], figures.recent["points_issued"],
            figures.all_time["catalogue_rewards"]) == (2, 2, 245, 1)
    assert manager.recent == figures.recent
    assert len(queries(seen["replica"])) == 6 + 5
    assert ledger_or_cards(seen["primary"]) == []  # (the test's own objects may refresh)

    with statements() as seen:
        cards = list(exports.card_rows(merchant))
        ledger = list(exports.transaction_rows(merchant))
    assert sorted(row[1] for row in cards) == ["Ana", "Ben"]
    assert len(ledger) == 8  # 2 x (created, stamp, points), a void, a reward
    assert touching(seen["replica"], "loyalty_cards") and ledger_or_cards(seen["primary"]) == []

    with statements() as seen:
        result = statement(merchant, Period(date(2026, 6, 1), date(2026, 7, 1)))
    assert result.lines
    assert len(touching(seen["replica"], "loyalty_transactions")) == 2
    assert touching(seen["primary"], "loyalty_transactions") == []

    with statements() as seen:
        rows, _page, _more = platform_stats.program_list(platform_stats.ProgramFilters())
        board = platform_stats.dashboard()
    assert [row[0].merchant_id for row in rows] == [merchant.id]
    assert (board.cards, board.programs) == (2, 1)
    assert len(touching(seen["replica"], "loyalty_cards")) == 2  # the list, the dashboard
    assert touching(seen["primary"], "loyalty_cards") == []
    # the ledger's day sums are written, then read, on the primary
    assert touching(seen["primary"], "ledger_days")
    assert touching(seen["replica"], "ledger_days") == []


def test_retention_reads_on_the_replica_and_keeps_its_snapshot_on_the_primary(shop,
                                                                               frozen_clock):
    with statements() as seen:
        figures = figures_for(shop.merchant, now=frozen_clock.now)
    assert figures.up_to == date(2026, 6, 14)
    assert len(touching(seen["replica"], "loyalty_transactions")) == 1
    assert touching(seen["primary"], "loyalty_transactions") == []
    assert [sql for sql in seen["primary"] if sql.startswith("INSERT INTO retention_snapshots")]
    assert not [sql for sql in seen["replica"] if "INSERT" in sql.upper()]


def test_a_standby_behind_the_day_leaves_retention_to_the_primary(shop, frozen_clock,
                                                                  monkeypatch):
    assert database._replayed_through(replica_session(), frozen_clock.now)  # not a standby
    monkeypatch.setattr(database, "_replayed_through", lambda _session, _moment: False)
    with statements() as seen:
        figures_for(shop.merchant, now=frozen_clock.now)
    assert len(touching(seen["primary"], "loyalty_transactions")) == 1
    assert touching(seen["replica"], "loyalty_transactions") == []


def test_the_counter_never_touches_the_replica(merchant, frozen_clock):
    factories.hybrid_program(merchant.merchant)
    counter = ActionContext(store_id=merchant.stores[0].id, user_id=merchant.staff.id)
    with statements() as seen:
        card = factories.card(merchant.merchant, "Cleo", store=merchant.stores[0])
        add_stamp(card, context=counter)
        earned = earn_points(card, 990, context=counter)
        void_points(card, earned.transaction.id, points=9, context=counter)
    assert touching(seen["primary"], "INSERT INTO loyalty_transactions")
    assert seen["replica"] == []


def test_a_write_through_the_replica_session_fails(shop):
    reads = replica_session()
    assert reads is not db.session()
    merchant = reads.get(Merchant, shop.merchant.id)
    merchant.name = "Renamed on the replica"
    with pytest.raises(ReplicaWriteRefused):
        reads.flush()
    reads.rollback()
    with pytest.raises(ReplicaWriteRefused):
        reads.execute(update(Merchant).values(name="Renamed").where(Merchant.id == merchant.id))
    reads.rollback()
    # below the ORM, the database itself refuses (a read-only transaction, query_only)
    with pytest.raises(DBAPIError, match="(?i)read.?only"):
        reads.execute(text("UPDATE merchants SET name = 'Renamed' WHERE id = :id"),
                      {"id": merchant.id})
    reads.rollback()
    db.session.commit()
    assert db.session.get(Merchant, shop.merchant.id).name == "Café Test"


@pytest.mark.skipif(ON_POSTGRES, reason="a second SQLite file stands for a replica elsewhere")
def test_a_replica_elsewhere_answers_the_routed_reads(make_app, database_template, tmp_path,
                                                      merchant, frozen_clock):
    """The replica is an empty copy of the schema: what it answers shows where reads went."""
    empty = tmp_path / "replica.sqlite3"
    shutil.copyfile(database_template, empty)
    program = factories.stamp_program(merchant.merchant)
    factories.card(merchant.merchant, "Dora", store=merchant.stores[0])
    db.session.commit()
    apart = make_app(DATABASE_REPLICA_URL=f"sqlite:///{empty}")
    with apart.app_context():
        shop = db.session.get(Merchant, merchant.merchant.id)
        assert stats.merchant_stats(shop, program).members == 0  # the replica's answer
        assert list(exports.card_rows(shop)) == []
        assert db.session.scalar(text("SELECT count(*) FROM loyalty_cards")) == 1  # primary
