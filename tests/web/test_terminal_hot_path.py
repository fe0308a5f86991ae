"""The counter's hot path: what a find and an action cost the database, the worker's copies of
the program and settings (and that an owner's change reaches the next request), the daily
stamp count kept on the card, and warmed workers."""
import pytest
from flask_babel import force_locale
from sqlalchemy import event, select, update

from loyalty.extensions import db
from loyalty.i18n import gettext, translations
from loyalty.models import LoyaltyCard, LoyaltyTransaction, Merchant, TransactionType
from loyalty.models.base import soft_delete
from loyalty.services.engine.card_summary import find_summary, summarize_card
from loyalty.services.errors import CardNotFound
from loyalty.services.merchant import programs
from loyalty.services.platform import accounts
from loyalty.warmup import warm_up
from tests import factories


@pytest.fixture
def stamp_card(merchant):
    factories.stamp_program(merchant.merchant, stamps_target=10, cooldown_minutes=0,
                            max_stamps_per_day=3)
    return factories.card(merchant.merchant, "Ida Stamp", email="ida@example.com")


@pytest.fixture
def staff_terminal(terminal, merchant):
    return terminal.sign_in(merchant.staff)


class Statements:
    """Every SQL statement and transaction the app runs while counting."""

    def __init__(self, app):
        self.engine = db.engines[None] if None in db.engines else db.engine
        self.statements, self.transactions = [], 0
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "begin", self._begin)

    def _statement(self, conn, cursor, statement, *args):
        self.statements.append(" ".join(statement.split()))

    def _begin(self, conn):
        self.transactions += 1

    def reset(self):
        self.statements, self.transactions = [], 0

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "begin", self._begin)


@pytest.fixture
def counted(app):
    with app.app_context():
        counter = Statements(app)
    yield counter
    counter.close()


def _is_sql(statement):
    return not statement.upper().startswith(("PRAGMA", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT",
                                             "RELEASE"))


def test_a_find_and_an_action_each_run_in_one_transaction(staff_terminal, stamp_card, counted):
    card_id, number = stamp_card.id, stamp_card.card_number
    staff_terminal.find(number)  # the worker's copies are loaded here
    counted.reset()
    staff_terminal.find(number)
    find = [s for s in counted.statements if _is_sql(s)]
    # session; the card, its customer and its history in one statement
    assert (len(find), counted.transactions) == (2, 1), find
    counted.reset()
    done = staff_terminal.act(card_id, "stamp")
    assert "Stamp added. 1 stamp of 10." in done.text
    stamp = [s for s in counted.statements if _is_sql(s)]
    # SQLite takes its write lock with BEGIN IMMEDIATE, so the sign-in read ends first there
    assert counted.transactions == (1 if counted.engine.dialect.name == "postgresql" else 2), stamp
    # session, card under its lock, card update, ledger insert (one statement on PostgreSQL:
    # the update is a data-modifying CTE of the insert), the fraud checks' outbox row (one
    # INSERT, handed over by the drain: issue #28), history: no replay lookup, no count over
    # the ledger, no program, reward or settings query
    on_postgres = counted.engine.dialect.name == "postgresql"
    assert len(stamp) == (5 if on_postgres else 6), stamp
    assert any(s.startswith("WITH card_saved AS (UPDATE loyalty_cards") for s in stamp) == on_postgres
    assert sum(s.startswith("INSERT INTO outbox") for s in stamp) == 1, stamp
    assert not any("loyalty_programs" in s or "merchant_loyalty_settings" in s for s in stamp)


def test_an_owners_change_reaches_the_next_counter_request(merchant, staff_terminal, stamp_card):
    staff_terminal.act(stamp_card.id, "stamp")
    staff_terminal.act(stamp_card.id, "stamp")
    programs.update_program(programs.live_program(merchant.id), max_stamps_per_day=2)
    refused = staff_terminal.act(stamp_card.id, "stamp")
    assert refused.status_code == 409 and "the daily limit" in refused.text
    programs.update_settings(merchant.id, allow_voids=False)
    row = db.session.scalar(select(LoyaltyTransaction.id).where(
        LoyaltyTransaction.transaction_type == TransactionType.STAMP_EARNED))
    voided = staff_terminal.act(stamp_card.id, "void", transaction_id=row)
    assert voided.status_code == 409 and "Voids are turned off" in voided.text


def test_the_daily_count_on_the_card_follows_voids_and_old_cards(merchant, frozen_clock,
                                                                 staff_terminal, stamp_card):
    staff_terminal.act(stamp_card.id, "stamp", quantity="3")
    assert staff_terminal.act(stamp_card.id, "stamp").status_code == 409  # cap of 3 reached
    row = db.session.scalar(select(LoyaltyTransaction.id).where(
        LoyaltyTransaction.transaction_type == TransactionType.STAMP_EARNED))
    staff_terminal.act(stamp_card.id, "void", transaction_id=row, amount="1")
    db.session.refresh(stamp_card)
    assert stamp_card.stamps_today == 2
    # a card from before the counter existed counts its day from the ledger once
    db.session.execute(update(LoyaltyCard).where(LoyaltyCard.id == stamp_card.id)
                       .values(stamps_day=None, stamps_today=0))
    db.session.commit()
    assert staff_terminal.act(stamp_card.id, "stamp").status_code == 200
    refused = staff_terminal.act(stamp_card.id, "stamp")
    assert refused.status_code == 409 and "already got 3 stamps today" in refused.text
    frozen_clock.advance(days=1)
    staff_terminal.sign_in(merchant.staff)
    assert staff_terminal.act(stamp_card.id, "stamp").status_code == 200  # a new day


def test_a_worker_warms_up_even_before_its_database_answers(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI="postgresql://nobody@127.0.0.1:1/none")
    warm_up(app)  # logs that the database did not answer, and carries on
    assert "terminal/_card_panel.html" in {key[1] for key in app.jinja_env.cache.keys()}


def test_a_request_keeps_its_catalog_until_the_locale_changes(app):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert gettext("Unlock") == "Débloquer"
        assert translations() is translations()
        with force_locale("de"):
            assert gettext("Unlock") == "Entsperren"
        assert gettext("Unlock") == "Débloquer"


def test_set_based_writes_of_programs_also_bump_the_version(merchant, stamp_card):
    """A cascading delete or a restore names no rows the ORM sees: the workers' copies of
    every merchant are renewed."""
    def version():
        db.session.expire_all()
        return db.session.get(Merchant, merchant.id).cache_version

    program = programs.live_program(merchant.id)
    before = version()
    programs.delete_program(program)
    deleted = version()
    accounts.restore_record(program)
    db.session.commit()
    assert before < deleted < version()


def test_a_scan_reads_the_panel_a_card_page_reads(merchant, staff_terminal, stamp_card):
    """The find's one-statement read (plain rows) shows what the ORM card's summary shows, and
    finds neither a deleted card nor another merchant's."""
    staff_terminal.act(stamp_card.id, "stamp")
    scanned = find_summary(merchant.id, stamp_card.card_number.replace("-", " "))
    by_token = find_summary(merchant.id, stamp_card.qr_token)
    card = db.session.get(LoyaltyCard, stamp_card.id)
    loaded = summarize_card(card)
    assert scanned.card.id == by_token.card.id == card.id
    assert (scanned.card.stamp_count, scanned.customer.name) == (1, "Ida Stamp")
    assert [tuple(row) for row in scanned.recent] == [tuple(row) for row in loaded.recent]
    assert scanned.voidable == loaded.voidable and len(scanned.recent) == 2
    with pytest.raises(CardNotFound):
        find_summary(merchant.id + 1, stamp_card.card_number)
    soft_delete(card)
    db.session.commit()
    with pytest.raises(CardNotFound):
        find_summary(merchant.id, stamp_card.card_number)
