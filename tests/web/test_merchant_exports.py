"""CSV exports: streamed, columns in the user's language, spreadsheet-safe cells."""
import csv
import io
from datetime import timedelta

import pytest

from loyalty.contacts import normalize_phone
from loyalty.services.engine import points
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.merchant import exports
from tests import factories
from tests.conftest import choose_language


def _rows(response, delimiter=","):
    assert response.mimetype == "text/csv" and response.is_streamed
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter))


def test_cells_that_would_run_as_formulas_are_neutralised():
    assert exports.safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert exports.safe_cell("+1") == "'+1" and exports.safe_cell("@x") == "'@x"
    assert exports.safe_cell("-2") == "'-2"
    assert exports.safe_cell(-2) == -2  # numbers stay numbers
    assert exports.safe_cell("Chloé") == "Chloé"


def test_transactions_export_in_the_users_language_with_safe_cells(auth, client, merchant,
                                                                  frozen_clock):
    factories.points_program(merchant.merchant)
    card = factories.card(merchant.merchant, "=cmd|' /C calc'!A0", email="evil@example.com",
                          store=merchant.stores[0])
    points.earn_points(card, 1250, context=ActionContext(store_id=merchant.stores[0].id),
                       order_reference="@SUM(1)")
    auth.login_as(merchant.owner)
    choose_language(client, "fr", page="/merchant/")
    rows = _rows(client.get("/merchant/exports/transactions.csv"), delimiter=";")
    assert rows[0][:4] == ["Date et heure", "Opération", "Récompense", "Magasin"]
    purchase = next(row for row in rows if row[1] == "Achat")
    assert purchase[0] == "2026-06-15 12:00:00"  # 10:00 UTC on the shop's clock
    assert purchase[6] == "'=cmd|' /C calc'!A0" and purchase[10] == "'@SUM(1)"
    assert purchase[8] == "125" and purchase[9] == "12,50"  # as a French spreadsheet reads it


def test_a_purchase_a_tablet_kept_offline_shows_when_it_happened_at_the_counter(
        auth, client, merchant, frozen_clock):
    factories.points_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Offline Olga", store=merchant.stores[0])
    store = merchant.stores[0].id
    points.earn_points(card, 500, context=ActionContext(store_id=store))
    points.earn_points(card, 700, context=ActionContext(
        store_id=store, counter_at=frozen_clock.now - timedelta(minutes=35)))
    auth.login_as(merchant.owner)
    rows = _rows(client.get("/merchant/exports/transactions.csv"))
    assert rows[0][-1] == "At the counter, without connection"
    purchases = [row for row in rows if row[1] == "Purchase"]
    assert [row[-1] for row in purchases] == ["", "2026-06-15 11:25:00"]  # the shop's clock
    assert purchases[1][0] == "2026-06-15 12:00:00"  # when it reached the server


def test_the_date_range_and_store_narrow_the_export(auth, client, merchant, frozen_clock):
    factories.points_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Range Rita", store=merchant.stores[0])
    for days, store in ((10, 0), (5, 1), (0, 0)):
        frozen_clock.set(frozen_clock.now.replace(day=15) - timedelta(days=days))
        points.earn_points(card, 1000, context=ActionContext(store_id=merchant.stores[store].id))
    auth.login_as(merchant.owner)
    rows = _rows(client.get("/merchant/exports/transactions.csv", query_string={
        "first_day": "2026-06-08", "last_day": "2026-06-15"}))
    assert [row[0][:10] for row in rows[1:]] == ["2026-06-10", "2026-06-15", "2026-06-15"]  # + enrolment
    rows = _rows(client.get("/merchant/exports/transactions.csv", query_string={
        "store": merchant.stores[1].id}))
    assert [row[0][:10] for row in rows[1:]] == ["2026-06-10"]


def test_a_bad_date_range_is_refused_with_a_message(auth, client, merchant):
    auth.login_as(merchant.owner)
    refused = client.get("/merchant/exports/transactions.csv", query_string={
        "first_day": "2026-06-15", "last_day": "2026-06-01"})
    assert refused.status_code == 422
    assert "The end date comes before the start date." in refused.text
    bad = client.get("/merchant/exports/transactions.csv", query_string={"first_day": "15/06"})
    assert bad.status_code == 422 and "Enter a date like 2026-11-21." in bad.text


def test_cards_export_and_a_managers_scope(auth, client, merchant):
    factories.points_program(merchant.merchant)
    factories.card(merchant.merchant, "Gare Gina", store=merchant.stores[0])
    factories.card(merchant.merchant, "Kirchberg Kim", store=merchant.stores[1])
    auth.login_as(merchant.owner)
    names = [row[1] for row in _rows(client.get("/merchant/exports/cards.csv"))[1:]]
    assert names == ["Gare Gina", "Kirchberg Kim"]
    auth.logout()
    auth.login_as(merchant.manager)
    names = [row[1] for row in _rows(client.get("/merchant/exports/cards.csv"))[1:]]
    assert names == ["Gare Gina"]
    assert client.get("/merchant/exports/transactions.csv", query_string={
        "store": merchant.stores[1].id}).status_code == 404


def test_an_english_export_uses_commas_and_a_decimal_point(auth, client, merchant):
    factories.points_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Emma English", store=merchant.stores[0])
    points.earn_points(card, 1250, context=ActionContext(store_id=merchant.stores[0].id))
    auth.login_as(merchant.owner)
    rows = _rows(client.get("/merchant/exports/transactions.csv"))
    assert rows[0][0] == "Date and time"
    assert next(row for row in rows if row[1] == "Purchase")[9] == "12.50"


#: Ways past a check of the first character alone: a spreadsheet skips or folds what comes
#: before the formula (byte-order mark, whitespace, zero-width marks, full-width forms).
FORMULA_BYPASSES = [
    "\ufeff=HYPERLINK(\"http://evil.example\")", "\uff1d1+1", "\uff0b1+1", "\uff0d1+1",
    "\uff20SUM(1)", "\ufe661+1", "\t=1+1", "\r=1+1", "\n=1+1", " =1+1", "   +1+1",
    "\u00a0=1+1", "\u200b=1+1", "\u3000=1+1", "\u2060@SUM(1)", "\ufeff \u200b\uff1d1+1",
    "\tplain text", "\rplain text",
]


@pytest.mark.parametrize("text", FORMULA_BYPASSES)
def test_a_formula_behind_a_mark_space_or_full_width_sign_is_neutralised(text):
    assert exports.safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Chloé", "1+1", "a=b", "(+352) 621 123 456", "— note",
                                  "Ｃafé", "", " "])
def test_text_that_is_no_formula_is_left_alone(text):
    assert exports.safe_cell(text) == text


def test_every_column_of_the_cards_export_is_guarded(auth, client, merchant):
    factories.points_program(merchant.merchant)
    name = "\ufeff\uff1dcmd|' /C calc'!A0"
    factories.card(merchant.merchant, name, email="evil@example.com", store=merchant.stores[0])
    auth.login_as(merchant.owner)
    rows = _rows(client.get("/merchant/exports/cards.csv"))
    assert rows[1][1] == "'" + name


@pytest.mark.parametrize(("typed", "shown"), [
    ("+352 621 123 456", "(+352) 621 123 456"),
    ("621 123 456", "(+352) 621 123 456"),  # the shop's country gives the prefix
    ("+33 6 12 34 56 78", "(+33) 6 12 34 56 78"),
    ("+1 202 555 0123", "(+1) 202-555-0123"),
])
def test_phone_numbers_open_as_readable_text(auth, client, merchant, typed, shown):
    """Not "'+352621123456" (the apostrophe shows) nor +352621123456 (opened as the number
    3.52621E+11): the country code in brackets, the digits grouped, no formula start."""
    factories.points_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Pia Phone", email="pia@example.com", phone=typed)
    auth.login_as(merchant.owner)
    rows = _rows(client.get("/merchant/exports/cards.csv"))
    assert rows[0][3] == "Phone" and rows[1][3] == shown
    assert normalize_phone(rows[1][3]) == card.customer.phone  # reads back as the same number


def test_a_value_that_is_no_phone_number_is_guarded_like_any_text():
    assert exports.phone_cell("+352621123456") == "(+352) 621 123 456"
    for stored in ("=1+1", "+HYPERLINK(1)", "12 34", None):
        assert exports.phone_cell(stored) == stored
    assert exports.safe_cell(exports.phone_cell("+HYPERLINK(1)")) == "'+HYPERLINK(1)"
