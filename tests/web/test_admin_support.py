"""A platform admin's support view of a card is recorded page by page: the first page and
each "Older" request for earlier rows of its history (HTMX or not)."""
import re

import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import AuditEntry
from loyalty.services.engine import points
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.merchant import card_directory
from tests import factories

OLDER = re.compile(r'hx-get="([^"]+)"[^>]*>Older<')


@pytest.fixture
def admin(app, auth):
    user = factories.user("Ada Admin", admin=True)
    db.session.commit()
    auth.login_as(user)
    return user


def test_every_page_of_a_cards_history_is_recorded(client, admin, merchant, monkeypatch):
    monkeypatch.setattr(card_directory, "HISTORY_PAGE_SIZE", 2)
    factories.points_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Sara Support", email="sara@example.com")
    for n in range(4):  # with the card's creation: five rows, three pages
        points.earn_points(card, 100, context=ActionContext(store_id=merchant.stores[0].id),
                           order_reference=f"ORDER-{n}")
    db.session.commit()
    url = f"/admin/merchants/{merchant.merchant.id}/cards/{card.id}"
    shown = client.get(url).get_data(as_text=True)
    pages = 1
    while (older := OLDER.search(shown)) is not None:
        answer = client.get(older.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})
        assert answer.status_code == 200
        shown = answer.get_data(as_text=True)
        pages += 1
    assert pages == 3 and "Card created" in shown  # the oldest row
    views = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "support.view").order_by(AuditEntry.id)).all()
    assert [(entry.actor_id, entry.target_label, entry.changes["page"][1]) for entry in views] \
        == [(admin.id, card.card_number, "card")] * 3
    befores = [entry.changes.get("before", [None, None])[1] for entry in views]
    assert befores[0] is None and befores[1] > befores[2] > 0
