"""The liability and breakage statement's pages: the owner's (managers refused), its CSV in
the user's language, the back office's per merchant and platform-wide, the command's CSV."""
import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from loyalty.extensions import db
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.points import earn_points
from loyalty.services.engine.stamps import add_stamp
from tests import factories
from tests.conftest import choose_language, run_cli

TAGS = re.compile(r"<[^>]+>")


def _text(response):
    return " ".join(TAGS.sub(" ", response.get_data(as_text=True)).split())


def _rows(response, delimiter=","):
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter))


@pytest.fixture
def books(merchant, frozen_clock):
    """A hybrid shop: 1,000 points (half a cent each) and 4 stamps (350 / 5 cents each)
    given in March 2026, read on 10 April."""
    factories.hybrid_program(merchant.merchant, stamp_reward_value_cents=350,
                             point_value_cents=Decimal("0.5"))
    frozen_clock.set(datetime(2026, 3, 10, 10, tzinfo=UTC))
    card = factories.card(merchant.merchant, "Book Keeper", store=merchant.stores[0])
    context = ActionContext(store_id=merchant.stores[0].id)
    earn_points(card, 10000, context=context)
    for _n in range(4):
        add_stamp(card, context=context)
    frozen_clock.set(datetime(2026, 4, 10, 9, tzinfo=UTC))
    return merchant


@pytest.fixture
def admin(app, client, auth):
    user = factories.user("Ada Admin", admin=True)
    db.session.commit()
    auth.login_as(user)
    return user


def test_the_owner_reads_last_month_by_default(auth, client, books):
    auth.login_as(books.owner)
    response = client.get("/merchant/statement")
    assert response.status_code == 200
    text = _text(response)
    assert "Liability and breakage statement" in text and "Café Test" in text
    assert "Europe/Luxembourg" in text and "EUR" in text
    assert "1 Mar 2026 – 31 Mar 2026" in text
    # Closing: 1,000 points x 0.5 cent + 4 stamps x 70 cents = €5.00 + €2.80.
    assert "€7.80" in text and "€5.00" in text and "€2.80" in text
    html = response.get_data(as_text=True)
    assert 'href="/merchant/statement.csv"' in html  # no month given: the default month's CSV
    assert 'value="2026-03"' in html and "statement.css" in html
    chosen = client.get("/merchant/statement?month=2026-02").get_data(as_text=True)
    assert 'href="/merchant/statement.csv?month=2026-02"' in chosen


def test_the_csv_in_french_and_german(auth, client, books):
    auth.login_as(books.owner)
    choose_language(client, "fr", page="/merchant/")
    response = client.get("/merchant/statement.csv?month=2026-03")
    assert 'filename="statement-cafe-test-2026-03.csv"' in response.headers["Content-Disposition"]
    rows = _rows(response, delimiter=";")
    assert rows[0] == ["Ligne", "Points", "Points (EUR)", "Tampons", "Tampons (EUR)",
                       "Total (EUR)"]
    assert rows[1][0] == "Solde d'ouverture"
    closing = next(row for row in rows if row[0] == "Solde de clôture")
    assert closing == ["Solde de clôture", "1000", "5,00", "4", "2,80", "7,80"]
    assert ["Valeurs", "Les valeurs actuelles du point et du tampon du programme, pour toute "
            "la période."] in rows
    choose_language(client, "de", page="/merchant/")
    rows = _rows(client.get("/merchant/statement.csv?month=2026-03"), delimiter=";")
    assert rows[0][0] == "Zeile" and rows[1][0] == "Anfangsbestand"
    assert any(row and row[0] == "Endbestand" for row in rows)


def test_a_date_range_and_bad_periods(auth, client, books):
    auth.login_as(books.owner)
    response = client.get("/merchant/statement?from=2026-03-10&to=2026-03-10")
    assert response.status_code == 200 and "10 Mar 2026 – 10 Mar 2026" in _text(response)
    for query, message in (("month=2026-13", "for example 2026-03"),
                           ("month=x", "for example 2026-03"),
                           ("month=" + "9" * 500, "for example 2026-03"),
                           ("from=2026-03-31&to=2026-03-01", "before the first day"),
                           ("from=2026-02-30&to=2026-03-01", "for example 2026-03-31"),
                           ("from=1000-01-01&to=2026-01-01", "for example 2026-03-31")):
        for url in ("/merchant/statement?", "/merchant/statement.csv?"):
            response = client.get(url + query)
            assert response.status_code == 422, url + query
            assert message in _text(response)
    assert client.get("/merchant/statement?month=%00x").status_code == 400  # the guard's
    assert 'value="2026-13"' in client.get("/merchant/statement?month=2026-13").get_data(
        as_text=True)  # what was typed is kept


def test_managers_and_staff_are_refused(auth, client, books):
    for person in (books.manager, books.staff):
        auth.login_as(person)
        assert client.get("/merchant/statement").status_code == 403
        assert client.get("/merchant/statement.csv").status_code == 403
        auth.logout()


def test_an_owner_reads_only_their_own_books(auth, client, books, other_merchant):
    factories.points_program(other_merchant.merchant)
    auth.login_as(other_merchant.owner)
    text = _text(client.get("/merchant/statement?month=2026-03"))
    assert "Other Bakery" in text and "Café Test" not in text and "€5.00" not in text
    assert client.get(f"/admin/merchants/{books.merchant.id}/statement").status_code == 403


def test_the_back_office_per_merchant_and_platform_wide(client, admin, books, other_merchant):
    factories.points_program(other_merchant.merchant, point_value_cents=Decimal("2"))
    other_merchant.merchant.currency = "CHF"
    db.session.commit()
    earn_points(factories.card(other_merchant.merchant, "Swiss", store=other_merchant.stores[0]),
                1000, context=ActionContext(store_id=other_merchant.stores[0].id))
    page = client.get(f"/admin/merchants/{books.merchant.id}/statement?month=2026-03")
    assert page.status_code == 200
    text = _text(page)
    assert "Statement of Café Test" in text and "€7.80" in text
    rows = _rows(client.get(f"/admin/merchants/{books.merchant.id}/statement.csv?month=2026-03"))
    assert ["Closing balance", "1000", "5.00", "4", "2.80", "7.80"] in rows
    assert client.get("/admin/merchants/999999/statement").status_code == 404
    assert client.get("/admin/merchants/99999999999999/statement").status_code == 404
    platform = client.get("/admin/statement?month=2026-04")  # the CHF points came in April
    text = _text(platform)
    assert platform.status_code == 200
    assert "CHF · 1 merchant" in text and "EUR · 1 merchant" in text
    assert "Closing balance CHF2.00" in text and "€7.80" in text
    assert client.get("/admin/statement?month=nope").status_code == 422


def test_the_command_prints_the_pages_csv(app, auth, client, books):
    auth.login_as(books.owner)
    downloaded = client.get("/merchant/statement.csv?month=2026-03").get_data()
    result = run_cli(app, "loyalty", "statement", "--merchant", "cafe-test", "--month", "2026-03")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == downloaded
    choose_language(client, "fr", page="/merchant/")
    downloaded = client.get("/merchant/statement.csv?month=2026-03").get_data()
    result = run_cli(app, "loyalty", "statement", "--merchant", "cafe-test", "--month",
                     "2026-03", "--language", "fr")
    assert result.stdout_bytes == downloaded
    refused = run_cli(app, "loyalty", "statement", "--merchant", "cafe-test", "--month", "March")
    assert refused.exit_code == 2 and "YYYY-MM" in refused.output
    books.merchant.default_locale = "de"  # no --language: the shop's language
    db.session.commit()
    result = run_cli(app, "loyalty", "statement", "--merchant", "cafe-test", "--month", "2026-03")
    assert result.exit_code == 0 and result.stdout_bytes.decode().lstrip("\ufeff").startswith(
        "Zeile;")
    assert run_cli(app, "loyalty", "statement", "--merchant", "nobody",
                   "--month", "2026-03").exit_code == 2
