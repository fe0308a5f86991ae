"""The retention page and its CSV: who may see what, bad input, and a statement count that
does not grow with stores or months (the history is tests/unit/test_retention.py's)."""
import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from loyalty.extensions import db
from loyalty.models import TransactionType
from loyalty.services.platform import accounts
from tests import factories
from tests.unit.test_retention import NOW, at, history, member  # noqa: F401 - a fixture

T = TransactionType


@pytest.fixture
def now(frozen_clock):
    frozen_clock.set(NOW)
    return frozen_clock


def test_the_owner_sees_every_figure_and_the_regulars_link_to_their_cards(
        auth, client, merchant, history, now):
    auth.login_as(merchant.owner)
    page = client.get("/merchant/retention")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-testid="repeat-30">33.3 %' in text and 'data-testid="repeat-90">66.7 %' in text
    assert 'data-testid="median-gap">8.0<' in text and 'data-testid="rewards-per-100">14.3<' in text
    assert "<svg" in text and 'data-testid="cohorts"' in text
    assert '<td class="num heat-5">100 %</td>' in text  # January's month 0
    assert f'href="/merchant/cards/{history["dan"].id}">Dan</a>' in text
    assert "1 member with at least 5 visits in this period has not come for more than 60 days." \
        in " ".join(text.split())
    assert 'href="/merchant/retention"' in client.get("/merchant/stats").get_data(as_text=True)


def test_a_manager_sees_only_their_stores(auth, client, merchant, history, now):
    auth.login_as(merchant.manager)
    page = client.get("/merchant/retention?min_visits=4&away_days=60")
    assert page.status_code == 200
    assert f'/merchant/cards/{history["anna"].id}"' in page.text
    assert "Dan" not in page.text  # his visits and his card are at the other store
    assert client.get(f"/merchant/cards/{history['anna'].id}").status_code == 200


def test_staff_are_refused_and_another_merchant_sees_nothing_of_it(
        auth, client, merchant, other_merchant, history, now):
    auth.login_as(merchant.staff)
    assert client.get("/merchant/retention").status_code == 403
    assert client.get("/merchant/retention.csv").status_code == 403
    auth.logout()
    auth.login_as(other_merchant.owner)
    page = client.get("/merchant/retention?min_visits=2&away_days=1")
    assert page.status_code == 200 and "Dan" not in page.text and "Anna" not in page.text


def test_the_csv_holds_the_headline_figures_the_series_and_the_cohorts(
        auth, client, merchant, history, now):
    auth.login_as(merchant.owner)
    response = client.get("/merchant/retention.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert ["Second visit within 30 days of joining (%)", "33.3"] in rows
    assert ["Median days between visits", "8.0"] in rows
    assert ["Regulars who stopped coming", "1"] in rows
    assert ["Jan 2026", "3", "2", "1.5"] in rows
    january = next(row for row in rows if row[:2] == ["Jan 2026", "2"])
    assert january[2:9] == ["100", "50", "50", "50", "0", "0", ""]


@pytest.mark.parametrize(("query", "typed"), [
    ("min_visits=abc&away_days=60", "abc"), ("min_visits=5&away_days=-3", "-3"),
    ("min_visits=1", "1"), ("away_days=99999999999999999999", "99999999999999999999")])
def test_bad_numbers_get_a_message_and_keep_what_was_typed(
        auth, client, merchant, history, now, query, typed):
    auth.login_as(merchant.owner)
    page = client.get(f"/merchant/retention?{query}")
    assert page.status_code == 422
    assert "Enter a whole number of" in page.text
    assert f'value="{typed}"' in page.text
    assert "Regulars who stopped coming" in page.text  # the page is still shown


class Statements:
    def __init__(self):
        self.texts = []

    def __call__(self, _connection, _cursor, statement, *args):
        self.texts.append(statement)

    @property
    def count(self):
        return len(self.texts)


def _statements(auth, client, merchant, *, texts=False):
    auth.login_as(merchant.owner)
    counter = Statements()
    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        assert client.get("/merchant/retention?min_visits=2&away_days=1").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    auth.logout()
    return counter.texts if texts else counter.count


def test_the_page_says_up_to_when_and_a_second_view_reads_the_snapshot_only(
        auth, client, merchant, history, now):
    first = _statements(auth, client, merchant, texts=True)
    assert any("loyalty_transactions" in text for text in first)
    second = _statements(auth, client, merchant, texts=True)
    assert len(second) < len(first) - 2  # no ledger read, no insert
    # Besides who is signed in (one statement over the session, the user and the memberships):
    reads = [text for text in second if text != "BEGIN" and "user_sessions" not in text]
    assert len(reads) == 2  # the snapshot, then the regulars' names as they are now
    assert "FROM retention_snapshots" in reads[0] and "customers.name" in reads[1]
    assert not any("loyalty_transactions" in text for text in second)
    auth.login_as(merchant.owner)
    text = " ".join(client.get("/merchant/retention").get_data(as_text=True).split())
    assert "Figures up to the end of yesterday (June 14, 2026), computed at 12:00" in text
    rows = list(csv.reader(io.StringIO(
        client.get("/merchant/retention.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][0].startswith("Figures up to the end of yesterday (June 14, 2026)")


def test_a_visit_today_shows_on_the_page_tomorrow(auth, client, merchant, history, now):
    auth.login_as(merchant.owner)
    assert 'data-testid="median-gap">8.0<' in client.get("/merchant/retention").text
    member(merchant, "Gil", at(date(2026, 6, 14)), merchant.stores[0], [
        (T.STAMP_EARNED, at(date(2026, 6, 14))), (T.STAMP_EARNED, at(date(2026, 6, 15), 9))])
    assert 'data-testid="median-gap">8.0<' in client.get("/merchant/retention").text
    now.set(NOW + timedelta(days=1))
    auth.login_as(merchant.owner)
    page = client.get("/merchant/retention").text
    assert 'data-testid="median-gap">7.0<' in page  # Gil's gap of 1 day
    assert "Figures up to the end of yesterday (June 15, 2026)" in page


def test_the_same_statements_for_1_or_30_stores_and_1_or_24_months(auth, client, merchant, now):
    factories.hybrid_program(merchant.merchant)
    home = merchant.stores[0]
    member(merchant, "Only", at(date(2026, 6, 1)), home, [
        (T.STAMP_EARNED, at(date(2026, 6, 1))), (T.STAMP_EARNED, at(date(2026, 6, 2)))])
    small, small_kept = (_statements(auth, client, merchant) for _ in range(2))
    assert small_kept < small
    for n in range(28):
        store = accounts.create_store(merchant.merchant, f"Extra {n}", f"X{n}")
        member(merchant, f"Extra {n}", at(date(2026, 5, 1)), store, [
            (T.POINTS_EARNED, at(date(2026, 5, 1))), (T.POINTS_EARNED, at(date(2026, 5, 3)))])
    first = date(2024, 6, 1)
    member(merchant, "Two Years", at(first), home, [
        (T.STAMP_EARNED, at(first + timedelta(days=31 * month))) for month in range(24)])
    db.session.commit()
    now.set(NOW + timedelta(days=1))  # a new day: computed again, then read
    assert [_statements(auth, client, merchant) for _ in range(2)] == [small, small_kept]
