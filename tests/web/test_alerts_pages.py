"""The fraud alerts pages: the list and its filters (owners see all, a manager their stores'),
one alert naming its rule, store, person, cards and ledger rows with links to them, the
review (a note required, kept, audited, once), and another merchant's alert not found."""
import re

import pytest
from sqlalchemy import event, select

from loyalty.extensions import db
from loyalty.models import AuditEntry, FraudAlert
from loyalty.services.engine import staff_pins
from tests import factories
from tests.conftest import csrf_token_from

URL = "/merchant/alerts"


@pytest.fixture
def shop(merchant):
    factories.hybrid_program(merchant.merchant)
    gare, ville = merchant.stores
    merchant.pin = staff_pins.create_staff_pin(merchant.merchant, gare, "Paula Pin", "4321")
    merchant.cards = [factories.card(merchant.merchant, "Carla Counter", store=gare),
                      factories.card(merchant.merchant, "Dora Double", store=gare)]
    merchant.at_gare = factories.fraud_alert(merchant.merchant, store=gare, cards=merchant.cards,
                                             staff_pin=merchant.pin, observed=42, threshold=30)
    merchant.at_ville = factories.fraud_alert(merchant.merchant, store=ville, rule="card_day",
                                              user=merchant.staff, observed=7, threshold=6)
    merchant.done = factories.fraud_alert(merchant.merchant, store=gare, rule="off_hours",
                                          observed=23, threshold=22, reviewed=True)
    return merchant


def _rows(page):
    return re.findall(r'<tr data-testid="alert-row">(.*?)</tr>', page.text, re.DOTALL)


def _review(client, alert, note, **extra):
    token = csrf_token_from(client.get(f"{URL}/{alert.id}"))
    return client.post(f"{URL}/{alert.id}/review", data={"note": note, "csrf_token": token,
                                                         **extra})


def test_the_owner_lists_open_alerts_and_filters_them(auth, client, shop):
    auth.login_as(shop.owner)
    page = client.get(URL)
    assert page.status_code == 200
    assert 'href="/merchant/alerts" aria-current="page"' in page.text  # in the navigation
    rows = _rows(page)
    assert len(rows) == 2  # the reviewed one is not "to review"
    assert "2 alerts to review" in page.text
    newest, oldest = rows
    assert "Many actions on one card" in newest and shop.stores[1].name in newest
    assert f"{shop.staff.name} (tablet account)" in newest and "7 / 6" in newest
    assert "Many stamps or purchases by one staff member" in oldest and "Paula Pin" in oldest
    assert "42 / 30" in oldest and ">2</td>" in oldest  # two cards
    assert "To review" in oldest

    reviewed = _rows(client.get(URL, query_string={"status": "reviewed"}))
    assert len(reviewed) == 1 and "Counter action at night" in reviewed[0]
    assert "Reviewed" in reviewed[0]
    assert len(_rows(client.get(URL, query_string={"status": "all"}))) == 3
    by_rule = _rows(client.get(URL, query_string={"status": "all", "rule": "card_day"}))
    assert len(by_rule) == 1 and "Many actions on one card" in by_rule[0]
    by_store = _rows(client.get(URL, query_string={"status": "all",
                                                   "store": shop.stores[0].id}))
    assert len(by_store) == 2 and all(shop.stores[0].name in row for row in by_store)
    # Nonsense in the query string shows the open alerts, never an error.
    odd = client.get(URL, query_string={"status": "x", "rule": "<b>", "store": "99999999999",
                                        "before": "-1"})
    assert odd.status_code == 200 and len(_rows(odd)) == 2


def test_the_start_page_counts_the_alerts_to_review(auth, client, shop):
    auth.login_as(shop.owner)
    assert re.search(r'data-testid="open-alerts"><a href="/merchant/alerts">2 alerts to review',
                     client.get("/merchant/").text)
    auth.logout()
    auth.login_as(shop.manager)  # their store's one only
    assert "1 alert to review" in client.get("/merchant/").text


def test_a_manager_sees_only_their_stores_alerts(auth, client, shop):
    auth.login_as(shop.manager)  # manager of the first store
    rows = _rows(client.get(URL, query_string={"status": "all"}))
    assert len(rows) == 2 and all(shop.stores[0].name in row for row in rows)
    assert client.get(f"{URL}/{shop.at_ville.id}").status_code == 404
    token = csrf_token_from(client.get(f"{URL}/{shop.at_gare.id}"))
    refused = client.post(f"{URL}/{shop.at_ville.id}/review",
                          data={"note": "Looked", "csrf_token": token})
    assert refused.status_code == 404
    db.session.expire_all()
    assert db.session.get(FraudAlert, shop.at_ville.id).reviewed_at is None
    # The staff member (no manager) has no alerts page.
    auth.logout()
    auth.login_as(shop.staff)
    assert client.get(URL).status_code == 403


def test_one_page_reads_the_same_statements_for_3_alerts_or_40(auth, client, shop):
    def statements():
        seen = []

        def listener(_connection, _cursor, statement, *_rest):
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(URL, query_string={"status": "all"}).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    auth.login_as(shop.owner)
    client.get(URL)
    few = statements()
    for n in range(37):
        pin = staff_pins.create_staff_pin(shop.merchant, shop.stores[n % 2], f"Pin {n}",
                                          f"{5000 + n}")
        factories.fraud_alert(shop.merchant, store=shop.stores[n % 2], staff_pin=pin,
                              user=shop.owner if n % 3 else None, cards=shop.cards[:1])
    many = statements()
    assert many == few
    page = client.get(URL, query_string={"status": "all"})
    assert len(_rows(page)) == 40


def test_pages_of_50_go_on_with_older(auth, client, shop):
    for _n in range(50):
        factories.fraud_alert(shop.merchant, store=shop.stores[0])
    auth.login_as(shop.owner)
    first = client.get(URL)
    assert len(_rows(first)) == 50
    older = re.search(r'href="([^"]*before=\d+[^"]*)"', first.text).group(1)
    second = client.get(older.replace("&amp;", "&"))
    assert len(_rows(second)) == 2  # 52 open alerts in all


def test_an_alert_names_its_rule_store_person_cards_and_ledger_rows(auth, client, shop):
    auth.login_as(shop.owner)
    page = client.get(f"{URL}/{shop.at_gare.id}")
    assert page.status_code == 200
    text = page.text
    assert "<h1>Many stamps or purchases by one staff member" in text
    assert "one staff member gives this many stamps and purchases" in text  # its description
    assert shop.stores[0].name in text and "Paula Pin" in text
    assert "42 / 30 stamps and purchases per hour" in text
    for card in shop.cards:
        assert f'href="/merchant/cards/{card.id}"' in text
        assert card.card_number in text
    for row_id in shop.at_gare.transaction_ids:
        card_id = next(c.id for c in shop.cards if f"/merchant/cards/{c.id}?before={row_id + 1}#t{row_id}" in text)
        history = client.get(f"/merchant/cards/{card_id}?before={row_id + 1}")
        assert f'id="t{row_id}"' in history.text  # the anchor the link goes to is on that page
    assert "2 ledger rows" in text and "2 cards" in text
    assert 'name="note"' in text and "Mark as reviewed" in text


def test_the_review_is_kept_audited_and_given_once(auth, client, shop):
    auth.login_as(shop.owner)
    answer = _review(client, shop.at_gare, "  Paula trained a new colleague with her PIN.  ")
    assert answer.status_code == 302
    page = client.get(answer.location)
    assert "Alert reviewed" in page.text
    assert 'data-testid="review-record"' in page.text and 'name="note"' not in page.text
    assert "Paula trained a new colleague with her PIN." in page.text
    assert shop.owner.name in page.text
    db.session.expire_all()
    alert = db.session.get(FraudAlert, shop.at_gare.id)
    assert alert.review_note == "Paula trained a new colleague with her PIN."
    assert alert.reviewed_by_id == shop.owner.id and alert.reviewed_at is not None
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "alert.review")).one()
    assert (entry.target_type, entry.target_id, entry.actor_id) == (
        "FraudAlert", alert.id, shop.owner.id)
    assert entry.changes["review_note"] == [None, "Paula trained a new colleague with her PIN."]
    assert "1 alert to review" in client.get(URL).text
    trail = client.get("/merchant/activity", query_string={"area": "alert"}).text
    assert "Review note" in trail and "Paula trained a new colleague with her PIN." in trail

    # A second review (an old tab) is refused and changes nothing.
    token = csrf_token_from(client.get(f"{URL}/{shop.at_ville.id}"))
    again = client.post(f"{URL}/{alert.id}/review", data={"note": "Other", "csrf_token": token})
    assert again.status_code == 409 and "already reviewed" in again.text
    db.session.expire_all()
    assert db.session.get(FraudAlert, alert.id).review_note.startswith("Paula")
    assert db.session.scalar(select(db.func.count(AuditEntry.id)).where(
        AuditEntry.action == "alert.review")) == 1


def test_a_manager_reviews_an_alert_of_their_store(auth, client, shop):
    auth.login_as(shop.manager)
    assert _review(client, shop.at_gare, "Checked with Paula").status_code == 302
    db.session.expire_all()
    assert db.session.get(FraudAlert, shop.at_gare.id).reviewed_by_id == shop.manager.id


@pytest.mark.parametrize(("note", "message"), [
    ("", "Write what you found or did"),
    ("   ", "Write what you found or did"),
    ("x" * 1001, "Keep the note under 1000 characters"),
])
def test_a_refused_review_says_why_and_keeps_what_was_typed(auth, client, shop, note, message):
    auth.login_as(shop.owner)
    answer = _review(client, shop.at_gare, note)
    assert answer.status_code == 422
    assert message in answer.text and 'aria-invalid="true"' in answer.text
    if note.strip():
        assert note in answer.text  # what was typed is still in the field
    db.session.expire_all()
    assert db.session.get(FraudAlert, shop.at_gare.id).reviewed_at is None
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "alert.review")) \
        is None


def test_a_review_without_its_token_or_with_a_nul_is_refused(auth, client, shop):
    auth.login_as(shop.owner)
    assert client.post(f"{URL}/{shop.at_gare.id}/review", data={"note": "ok"}).status_code in (
        400, 422)
    token = csrf_token_from(client.get(f"{URL}/{shop.at_gare.id}"))
    nul = client.post(f"{URL}/{shop.at_gare.id}/review", data={"note": "a\x00b",
                                                               "csrf_token": token})
    assert 400 <= nul.status_code < 500
    db.session.expire_all()
    assert db.session.get(FraudAlert, shop.at_gare.id).reviewed_at is None


def test_another_merchants_alert_is_not_found(auth, client, shop, other_merchant):
    theirs = factories.fraud_alert(other_merchant.merchant, store=other_merchant.stores[0])
    auth.login_as(shop.owner)
    assert client.get(f"{URL}/{theirs.id}").status_code == 404
    token = csrf_token_from(client.get(URL))
    answer = client.post(f"{URL}/{theirs.id}/review", data={"note": "Mine now",
                                                          "csrf_token": token})
    assert answer.status_code == 404
    assert client.get(f"{URL}/99999999999").status_code == 404
    assert other_merchant.merchant.name not in client.get(URL,
                                                          query_string={"status": "all"}).text
    db.session.expire_all()
    assert db.session.get(FraudAlert, theirs.id).reviewed_at is None
