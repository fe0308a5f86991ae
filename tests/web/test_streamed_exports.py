"""Every streamed CSV export downloads whole from a real server, as in production: the body
is read after the view has returned and Flask has closed its database session (once "cursor
does not exist" on PostgreSQL for the admin's audit log). The suite runs these on SQLite and,
with TEST_DATABASE_URL, on PostgreSQL; pages are made small so a download spans several."""
import csv
import io

import pytest

from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.services import audit
from loyalty.services.audit import Actor
from loyalty.services.engine import points
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.merchant import exports
from tests import factories
from tests.web.test_sign_in_limits import Browser

ROWS = 7  # two full pages of 3 and one of 1


@pytest.fixture(autouse=True)
def _small_pages(monkeypatch):
    monkeypatch.setattr(exports, "BATCH", 3)
    monkeypatch.setattr(audit, "EXPORT_PAGE", 3)


def _signed_in(server, user):
    browser = Browser(server.url)
    status, _page = browser.request("/login", {
        "email": user.email, "password": factories.PASSWORD, "csrf_token": browser.token()})
    assert status == 302
    return browser


def _download(browser, path):
    status, text = browser.request(path)
    assert status == 200, text[:500]
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_the_admins_audit_log_downloads_whole(make_app, serve, merchant):
    admin = factories.user("Ada Admin", admin=True)
    store = merchant.stores[0]
    with write_transaction():
        for n in range(ROWS):
            audit.record(Actor(user_id=admin.id), "store.update", store,
                         merchant_id=merchant.merchant.id, label=f"Store {n}",
                         changes={"name": [f"Old {n}", f"Store {n}"]})
    browser = _signed_in(serve(make_app()), admin)
    rows = _download(browser, "/admin/audit.csv?action=store")
    assert [(row[1], row[2], row[3], row[4]) for row in rows[1:]] == [
        (admin.email, "Café Test", "store.update", f"Store {n}") for n in range(ROWS)]
    assert _download(browser, "/admin/audit.csv?action=nothing")[1:] == []


def test_the_merchants_exports_download_whole(make_app, serve, merchant, frozen_clock):
    factories.points_program(merchant.merchant)
    cards = [factories.card(merchant.merchant, f"Customer {n}", email=f"c{n}@example.com")
             for n in range(ROWS)]
    for n, card in enumerate(cards):  # one moment for all: the pages part rows of one time
        points.earn_points(card, 100 * (n + 1), context=ActionContext(store_id=merchant.stores[0].id),
                           order_reference=f"ORDER-{n}")
    db.session.commit()
    browser = _signed_in(serve(make_app()), merchant.owner)
    ledger = _download(browser, "/merchant/exports/transactions.csv")
    assert [(row[1], row[10]) for row in ledger[1:]] == (
        [("Card created", "")] * ROWS + [("Purchase", f"ORDER-{n}") for n in range(ROWS)])
    listed = _download(browser, "/merchant/exports/cards.csv")
    assert [row[0] for row in listed[1:]] == [card.card_number for card in cards]


def test_the_audit_log_export_guards_formulas_too(client, auth, merchant):
    admin = factories.user("Ada Admin", admin=True)
    label = "\ufeff\uff1dHYPERLINK(\"http://evil.example\")"
    with write_transaction():
        audit.record(Actor(user_id=admin.id), "store.update", merchant.stores[0],
                     merchant_id=merchant.merchant.id, label=label)
    auth.login_as(admin)
    text = client.get("/admin/audit.csv?action=store").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[1][4] == "'" + label
