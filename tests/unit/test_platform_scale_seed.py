"""The scale benchmark's seeding (``bench/scale_seed.py``) on a tiny platform: COPY is
PostgreSQL's, so on SQLite the test is skipped."""
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from loyalty.extensions import db
from loyalty.services.engine.ledger import ledger_drift
from tests.conftest import ON_POSTGRES

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import scale_seed  # noqa: E402

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="the seeding streams rows with "
                                "PostgreSQL's COPY; run with TEST_DATABASE_URL to test it")

PLAN = scale_seed.Plan(merchants=3, cards=50, rows=500, days=730, seed=7)
NOW = datetime(2026, 12, 8, 0, 30, tzinfo=UTC)


@pytest.fixture
def seeded(app):
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    db.session.commit()
    summary = scale_seed.seed(url, PLAN, now=NOW, log=lambda *_: None, mark=False)
    return summary


def scalar(sql):
    return db.session.scalar(text(sql))


def test_counts_and_skew(seeded):
    assert scalar("SELECT count(*) FROM merchants") == 3
    assert scalar("SELECT count(*) FROM loyalty_programs") == 3
    assert scalar("SELECT count(*) FROM loyalty_cards") == seeded["cards"]
    assert 45 <= seeded["cards"] <= 55
    assert scalar("SELECT count(*) FROM customers") == seeded["cards"]
    assert scalar("SELECT count(*) FROM loyalty_transactions") == seeded["rows"] == 500
    per_merchant = db.session.execute(text(
        "SELECT merchant_id, count(*) FROM loyalty_transactions GROUP BY merchant_id "
        "ORDER BY count(*) DESC")).all()
    assert per_merchant[0] == (1, seeded["largest_rows"])
    assert per_merchant[0][1] > per_merchant[1][1]
    # every owner can sign in to their merchant; the sequences carry on after the ids given
    assert scalar("SELECT count(*) FROM memberships WHERE role = 'merchant_owner'") == 3
    assert scalar("SELECT nextval('loyalty_transactions_id_seq')") == 501


def test_balances_equal_the_ledger(seeded):
    assert ledger_drift() == []
    assert scalar("SELECT count(*) FROM loyalty_cards WHERE last_activity_at IS NULL") == 0
    assert scalar("""SELECT count(*) FROM loyalty_cards c WHERE last_activity_at <>
                     (SELECT max(transaction_at) FROM loyalty_transactions t
                      WHERE t.card_id = c.id)""") == 0
    assert scalar("""SELECT count(*) FROM loyalty_transactions t
                     JOIN loyalty_cards c ON c.id = t.card_id
                     WHERE c.merchant_id <> t.merchant_id""") == 0


def test_dates_within_two_years(seeded):
    first, last = db.session.execute(text(
        "SELECT min(transaction_at), max(transaction_at) FROM loyalty_transactions")).one()
    assert first >= NOW - timedelta(days=730)
    assert last <= NOW
    assert last - first > timedelta(days=300)  # spread, not bunched


def test_indexes_rebuilt_and_deterministic(seeded):
    assert scalar("SELECT count(*) FROM pg_indexes WHERE tablename = 'loyalty_transactions' "
                  "AND indexname = 'ix_loyalty_transactions_merchant_time'") == 1
    digest = "SELECT md5(string_agg(concat_ws(',', card_id, transaction_type, points_delta, " \
             "transaction_at), ';' ORDER BY id)) FROM loyalty_transactions"
    first = scalar(digest)
    db.session.commit()
    db.session.execute(text("TRUNCATE merchants, users, memberships, stores, loyalty_programs, "
                            "rewards, customers, loyalty_cards, loyalty_transactions CASCADE"))
    db.session.commit()
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    scale_seed.seed(url, PLAN, now=NOW, log=lambda *_: None, mark=False)
    assert scalar(digest) == first
