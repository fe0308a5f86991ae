"""The owner's cards: search, filters, sorting, pages, history, deactivation, adjustments."""
import re

import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import AuditEntry, LoyaltyCard, LoyaltyTransaction, TransactionType
from loyalty.services.engine import cards, points
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.voids import void_transaction
from loyalty.services.merchant import card_directory
from tests import factories
from tests.conftest import csrf_token_from


@pytest.fixture
def shop(merchant):
    factories.points_program(merchant.merchant, rewards=(("Croissant", 50),))
    gare, kirchberg = merchant.stores
    made = {
        "chloe": factories.card(merchant.merchant, "Chloé Muller", email="chloe@example.lu",
                                phone="+352 621 100 002", store=gare),
        "marc": factories.card(merchant.merchant, "Marc Weber", email="marc@example.lu", store=gare),
        "nina": factories.card(merchant.merchant, "Nina Schmit", email="nina@example.lu",
                               store=kirchberg),
    }
    context = ActionContext(store_id=gare.id, user_id=merchant.staff.id)
    points.earn_points(made["marc"], 800, context=context)  # 80 points: a croissant is ready
    return made


def _post(client, url, data=None):
    token = csrf_token_from(client.get("/account"))
    return client.post(url, data={**(data or {}), "csrf_token": token})


def _names(response):
    return [name for name in ("Chloé Muller", "Marc Weber", "Nina Schmit") if name in response.text]


@pytest.mark.parametrize(("query", "expected"), [
    ("chlo", ["Chloé Muller"]), ("WEBER", ["Marc Weber"]), ("nina@example", ["Nina Schmit"]),
    ("621100", ["Chloé Muller"]), ("+352 621 100 002", ["Chloé Muller"]),
    ("(621) 100-002", ["Chloé Muller"]),
])
def test_search_by_name_email_or_phone_partial(auth, client, merchant, shop, query, expected):
    auth.login_as(merchant.owner)
    assert _names(client.get("/merchant/cards", query_string={"q": query})) == expected


def test_search_by_card_number_with_or_without_dashes_and_partial(auth, client, merchant, shop):
    auth.login_as(merchant.owner)
    number = shop["nina"].card_number
    for query in (number, number.replace("-", ""), number[5:12]):
        assert _names(client.get("/merchant/cards", query_string={"q": query})) == ["Nina Schmit"]


def test_filters_and_sorting(auth, client, merchant, shop):
    cards.deactivate_card(shop["chloe"], reason="lost")
    auth.login_as(merchant.owner)
    get = lambda **args: client.get("/merchant/cards", query_string=args)  # noqa: E731
    assert _names(get(status="inactive")) == ["Chloé Muller"]
    assert "Chloé Muller" not in get(status="active").text
    assert _names(get(store=merchant.stores[1].id)) == ["Nina Schmit"]
    assert _names(get(ready="y")) == ["Marc Weber"]
    by_name = get(sort="name").text
    assert by_name.index("Chloé") < by_name.index("Marc") < by_name.index("Nina")
    by_points = get(sort="points").text
    assert by_points.index("Marc") < by_points.index("Chloé")


def test_pages_of_fifty(auth, client, merchant, monkeypatch, shop):
    monkeypatch.setattr(card_directory, "PAGE_SIZE", 2)
    auth.login_as(merchant.owner)
    first = client.get("/merchant/cards", query_string={"sort": "name"})
    assert _names(first) == ["Chloé Muller", "Marc Weber"] and "page=2" in first.text
    second = client.get("/merchant/cards", query_string={"sort": "name", "page": 2})
    assert _names(second) == ["Nina Schmit"] and "page=3" not in second.text


def test_the_search_answers_with_the_results_alone_for_htmx(auth, client, merchant, shop):
    auth.login_as(merchant.owner)
    partial = client.get("/merchant/cards", query_string={"q": "marc"},
                         headers={"HX-Request": "true"})
    assert "<html" not in partial.text and "Marc Weber" in partial.text


def test_a_card_shows_its_whole_history_with_store_staff_and_voids(auth, client, merchant, shop,
                                                                   monkeypatch):
    marc = shop["marc"]
    earned = db.session.scalar(select(LoyaltyTransaction).where(
        LoyaltyTransaction.card_id == marc.id,
        LoyaltyTransaction.transaction_type == TransactionType.POINTS_EARNED))
    void_transaction(marc, earned.id, amount=30,
                     context=ActionContext(store_id=merchant.stores[0].id, user_id=merchant.staff.id))
    auth.login_as(merchant.owner)
    page = client.get(f"/merchant/cards/{marc.id}")
    assert merchant.stores[0].name in page.text
    assert f'href="#t{earned.id}"' in page.text  # the void links to what it voids
    monkeypatch.setattr(card_directory, "HISTORY_PAGE_SIZE", 1)
    first = client.get(f"/merchant/cards/{marc.id}")
    assert "Older" in first.text
    older = client.get(f"/merchant/cards/{marc.id}", query_string={"before": earned.id + 1},
                       headers={"HX-Request": "true"})
    assert "<html" not in older.text and f'id="t{earned.id}"' in older.text


def test_deactivation_needs_a_reason_and_is_recorded(auth, client, merchant, shop):
    auth.login_as(merchant.owner)
    chloe = shop["chloe"]
    refused = _post(client, f"/merchant/cards/{chloe.id}/deactivate", {"reason": ""})
    assert refused.status_code == 422 and "Give a reason" in refused.text
    done = _post(client, f"/merchant/cards/{chloe.id}/deactivate", {"reason": "Card lost"})
    assert done.status_code == 302
    db.session.expire_all()
    assert not db.session.get(LoyaltyCard, chloe.id).is_active
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "card.deactivate"))
    assert entry.changes["reason"] == [None, "Card lost"]
    _post(client, f"/merchant/cards/{chloe.id}/reactivate", {"reason": "Found again"})
    db.session.expire_all()
    assert db.session.get(LoyaltyCard, chloe.id).is_active


def test_an_adjustment_is_previewed_then_confirmed(auth, client, merchant, shop):
    auth.login_as(merchant.owner)
    marc = shop["marc"]
    data = {"kind": "points", "direction": "remove", "amount": "30", "reason": "Double scan"}
    preview = _post(client, f"/merchant/cards/{marc.id}/adjust", data)
    assert preview.status_code == 200
    assert "The balance goes from 80 to 50." in preview.text
    db.session.expire_all()
    assert db.session.get(LoyaltyCard, marc.id).points_balance == 80  # nothing yet
    seen = re.search(r'name="confirmed" value="([^"]+)"', preview.text).group(1)
    changed = _post(client, f"/merchant/cards/{marc.id}/adjust",
                    {**data, "amount": "60", "confirmed": seen})  # edited after the preview
    assert changed.status_code == 200 and "The balance goes from 80 to 20." in changed.text
    blind = _post(client, f"/merchant/cards/{marc.id}/adjust", {**data, "confirmed": "yes"})
    assert blind.status_code == 200  # no preview seen: nothing applied
    db.session.expire_all()
    assert db.session.get(LoyaltyCard, marc.id).points_balance == 80
    done = _post(client, f"/merchant/cards/{marc.id}/adjust", {**data, "confirmed": seen})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(LoyaltyCard, marc.id).points_balance == 50
    row = db.session.scalar(select(LoyaltyTransaction).where(
        LoyaltyTransaction.transaction_type == TransactionType.POINTS_ADJUSTED))
    assert row.points_delta == -30 and row.notes == "Double scan"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "card.adjust"))
    assert entry.changes["points_balance"] == [80, 50] and entry.actor_id == merchant.owner.id


def test_an_adjustment_below_zero_or_without_reason_is_refused(auth, client, merchant, shop):
    auth.login_as(merchant.owner)
    marc = shop["marc"]
    negative = _post(client, f"/merchant/cards/{marc.id}/adjust", {
        "kind": "points", "direction": "remove", "amount": "500", "reason": "x",
        "confirmed": "points_balance:-500:80"})
    assert "This would make the balance negative: the card has 80." in negative.text
    no_reason = _post(client, f"/merchant/cards/{marc.id}/adjust", {
        "kind": "points", "direction": "add", "amount": "5", "reason": ""})
    assert no_reason.status_code == 422 and "Give a reason for the adjustment" in no_reason.text
    db.session.expire_all()
    assert db.session.get(LoyaltyCard, marc.id).points_balance == 80


def test_a_manager_sees_the_cards_of_their_store_read_only(auth, client, merchant, shop):
    auth.login_as(merchant.manager)  # manager at the first store
    listed = client.get("/merchant/cards")
    assert _names(listed) == ["Chloé Muller", "Marc Weber"]
    assert client.get(f"/merchant/cards/{shop['nina'].id}").status_code == 404
    own = client.get(f"/merchant/cards/{shop['marc'].id}")
    assert own.status_code == 200 and "Adjust points or stamps" not in own.text
    assert _post(client, f"/merchant/cards/{shop['marc'].id}/deactivate",
                 {"reason": "x"}).status_code == 403
    assert client.get(f"/merchant/cards/{shop['marc'].id}/adjust").status_code == 403
