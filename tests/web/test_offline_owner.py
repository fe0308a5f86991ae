"""What the owner sees of the counter without connection (issue #25, "Owners see it"): the
setting that allows it and caps what a tablet keeps, the count of actions sent later in the
statistics, those actions marked and filterable in a card's history, and their entries in the
activity page."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import AuditEntry, LoyaltyProgram, Merchant
from loyalty.services import audit
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.points import earn_points
from loyalty.services.engine.stamps import add_stamp
from loyalty.services.merchant import card_directory
from tests import factories
from tests.conftest import choose_language, csrf_token_from

TAGS = re.compile(r"<[^>]+>")
STAMPS = {"program_type": "stamps", "card_name": "Coffee card", "stamps_target": "10",
          "stamp_reward_description": "A free coffee", "stamp_reward_value": "3.50",
          "cooldown_minutes": "0", "max_stamps_per_day": "10"}


def _text(response):
    """The page's words, without its markup and with runs of spaces made one."""
    return " ".join(TAGS.sub(" ", response.get_data(as_text=True)).split())


def _post(client, url, data):
    token = csrf_token_from(client.get("/account"))
    return client.post(url, data={**data, "csrf_token": token})


def _program(merchant):
    return db.session.scalar(select(LoyaltyProgram).where(
        LoyaltyProgram.merchant_id == merchant.id))


def _kept(merchant, minutes_ago, frozen_clock, store=0):
    """What a tablet at ``store`` sends of an action made ``minutes_ago`` at the counter."""
    return ActionContext(store_id=merchant.stores[store].id, user_id=merchant.staff.id,
                         counter_at=frozen_clock.now - timedelta(minutes=minutes_ago))


@pytest.fixture
def owner(auth, merchant):
    auth.login_as(merchant.owner)
    return merchant


# -- the setting ---------------------------------------------------------------------------

def test_the_owner_caps_what_a_tablet_keeps_and_the_change_is_recorded(client, owner):
    factories.stamp_program(owner.merchant)
    page = client.get("/merchant/program").get_data(as_text=True)
    assert "Counter without connection" in page
    assert '<input checked id="offline_enabled" name="offline_enabled"' in page
    assert 'name="offline_max_actions" required type="number" value="50"' in page
    assert 'name="offline_max_points" required type="number" value="500"' in page
    version = db.session.get(Merchant, owner.id).cache_version

    saved = _post(client, "/merchant/program", {**STAMPS, "offline_max_actions": "20",
                                                "offline_max_points": "300"})
    assert saved.status_code == 302
    program = _program(owner.merchant)
    assert (program.offline_enabled, program.offline_max_actions,
            program.offline_max_points) == (False, 20, 300)  # the box was left unticked
    # The counter reads the program again at its next request.
    assert db.session.get(Merchant, owner.id).cache_version > version
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "program.update"))
    assert entry.changes["offline_enabled"] == [True, False]
    assert entry.changes["offline_max_actions"] == [50, 20]
    activity = _text(client.get("/merchant/activity?area=program"))
    assert "Let the counter keep working without a connection ✓ → ✗" in activity
    assert "Actions a tablet may keep, at most 50 → 20" in activity
    assert "Points a tablet may keep, at most 500 → 300" in activity

    _post(client, "/merchant/program", {**STAMPS, "offline_enabled": "y",
                                        "offline_max_actions": "20", "offline_max_points": "300"})
    assert _program(owner.merchant).offline_enabled


@pytest.mark.parametrize(("actions", "points", "message"), [
    ("0", "300", "Enter a number of actions from 1 to 500."),
    ("501", "300", "Enter a number of actions from 1 to 500."),
    ("", "300", "Enter a number of actions from 1 to 500."),
    ("20", "100001", "Enter a number of points from 0 to 100,000."),
    ("20", "-5", "Enter a number of points from 0 to 100,000."),
])
def test_a_cap_out_of_range_is_refused_with_what_was_typed_kept(client, owner, actions, points,
                                                                message):
    factories.stamp_program(owner.merchant)
    refused = _post(client, "/merchant/program", {**STAMPS, "offline_enabled": "y",
                                                  "offline_max_actions": actions,
                                                  "offline_max_points": points})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert message in page and 'aria-invalid="true"' in page
    assert f'name="offline_max_actions" required type="number" value="{actions}"' in page
    assert f'name="offline_max_points" required type="number" value="{points}"' in page
    assert '<input checked id="offline_enabled"' in page
    program = _program(owner.merchant)
    assert (program.offline_max_actions, program.offline_max_points) == (50, 500)


def test_a_page_shown_before_the_setting_existed_does_not_switch_it_off(client, owner):
    factories.stamp_program(owner.merchant)
    assert _post(client, "/merchant/program", STAMPS).status_code == 302  # no such part on it
    program = _program(owner.merchant)
    assert (program.offline_enabled, program.offline_max_actions,
            program.offline_max_points) == (True, 50, 500)


# -- the statistics ------------------------------------------------------------------------

def test_the_statistics_count_the_actions_sent_later(auth, client, merchant, other_merchant,
                                                     counter, frozen_clock):
    factories.hybrid_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Olga Offline", store=merchant.stores[0])
    add_stamp(card, context=counter)  # at the counter with a connection: not counted
    add_stamp(card, context=_kept(merchant, 40, frozen_clock))
    earn_points(card, 1250, context=_kept(merchant, 30, frozen_clock, store=1))
    add_stamp(card, context=_kept(merchant, 20, frozen_clock))
    factories.hybrid_program(other_merchant.merchant)
    theirs = factories.card(other_merchant.merchant, "Not Mine", store=other_merchant.stores[0])
    add_stamp(theirs, context=_kept(other_merchant, 10, frozen_clock))

    auth.login_as(merchant.owner)
    page = _text(client.get("/merchant/stats"))
    assert ("Sent later by a tablet without connection, in the last 30 days: 3 actions."
            in page)
    second_store = _text(client.get(f"/merchant/stats?store={merchant.stores[1].id}"))
    assert "in the last 30 days: 1 action." in second_store

    frozen_clock.advance(days=31)  # out of the window
    auth.login_as(merchant.owner)
    assert "in the last 30 days: 0 actions." in _text(client.get("/merchant/stats"))


# -- a card's history ----------------------------------------------------------------------

@pytest.fixture
def offline_card(merchant, counter, frozen_clock):
    """A card stamped once with a connection, then twice by a tablet without one (sent at
    10:00 UTC, 12:00 in Luxembourg): the first made at 11:25, the second at 11:40."""
    factories.stamp_program(merchant.merchant, cooldown_minutes=0, max_stamps_per_day=10)
    card = factories.card(merchant.merchant, "Olga Offline", store=merchant.stores[0])
    online = add_stamp(card, context=counter).transaction
    first = add_stamp(card, context=_kept(merchant, 35, frozen_clock)).transaction
    second = add_stamp(card, context=_kept(merchant, 20, frozen_clock)).transaction
    return card, online, first, second


def test_a_card_history_marks_the_actions_sent_later(auth, client, merchant, offline_card):
    card, online, _, _ = offline_card
    auth.login_as(merchant.owner)
    response = client.get(f"/merchant/cards/{card.id}")
    page = response.get_data(as_text=True)
    assert page.count('data-testid="offline-badge"') == 2
    words = _text(response)
    assert "at the counter 11:25, recorded 12:00" in words
    assert "at the counter 11:40, recorded 12:00" in words
    assert "Only actions sent later (offline)" in words
    online_row = re.search(rf'<tr id="t{online.id}">.*?</tr>', page, re.DOTALL).group(0)
    assert "offline-badge" not in online_row

    choose_language(client, "fr", page="/merchant/")
    assert "au comptoir 11:25, enregistré 12:00" in _text(client.get(f"/merchant/cards/{card.id}"))


def test_the_history_filter_lists_only_the_actions_sent_later(auth, client, merchant,
                                                              offline_card, monkeypatch):
    card, online, first, second = offline_card
    auth.login_as(merchant.owner)
    page = client.get(f"/merchant/cards/{card.id}?offline=1").get_data(as_text=True)
    assert f'id="t{first.id}"' in page and f'id="t{second.id}"' in page
    assert f'id="t{online.id}"' not in page
    assert re.search(r'name="offline" value="1" checked', page)
    assert f'id="t{online.id}"' in client.get(f"/merchant/cards/{card.id}").get_data(
        as_text=True)

    # A page at a time: "Older" goes on with the filter.
    monkeypatch.setattr(card_directory, "HISTORY_PAGE_SIZE", 1)
    rows = client.get(f"/merchant/cards/{card.id}?offline=1", headers={"HX-Request": "true"})
    fragment = rows.get_data(as_text=True)
    assert "<html" not in fragment and f'id="t{second.id}"' in fragment
    older = re.search(r'hx-get="([^"]+)"', fragment).group(1).replace("&amp;", "&")
    assert "offline=1" in older
    rest = client.get(older, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f'id="t{first.id}"' in rest and f'id="t{online.id}"' not in rest


def test_the_filter_says_so_when_nothing_was_sent_later(auth, client, merchant, counter):
    factories.stamp_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Nora Online", store=merchant.stores[0])
    add_stamp(card, context=counter)
    auth.login_as(merchant.owner)
    page = _text(client.get(f"/merchant/cards/{card.id}?offline=1"))
    assert "No action on this card was sent later by a tablet without connection." in page
    assert "No action on this card" not in _text(client.get(f"/merchant/cards/{card.id}"))


# -- the activity page ---------------------------------------------------------------------

def test_the_activity_lists_the_actions_sent_later_in_words(auth, client, merchant,
                                                            frozen_clock):
    factories.stamp_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Olga Offline", store=merchant.stores[0])
    staff = audit.Actor(user_id=merchant.staff.id, merchant_id=merchant.id)
    with write_transaction():
        audit.record(staff, "offline.stamp", card, merchant_id=merchant.id,
                     label=card.card_number,
                     changes={"stamps": [None, 2],
                              "counter_at": [None, "2026-06-15T09:05:00+00:00"],
                              "result": [None, "accepted"]})
        audit.record(staff, "offline.earn", card, merchant_id=merchant.id,
                     label=card.card_number,
                     changes={"amount_cents": [None, 1250],
                              "counter_at": [None, "2026-06-15T09:10:00+00:00"],
                              "result": [None, "This card is deactivated."]})
        audit.record(audit.Actor(user_id=merchant.owner.id), "card.deactivate", card,
                     merchant_id=merchant.id, label=card.card_number,
                     changes={"is_active": [True, False]})
    auth.login_as(merchant.owner)

    response = client.get("/merchant/activity?area=offline")
    page = _text(response)
    assert f"sent a stamp kept without a connection: {card.card_number}" in page
    assert f"sent a purchase kept without a connection: {card.card_number}" in page
    assert "Stamps — → 2" in page
    assert "Purchase amount — → €12.50" in page
    assert "At the counter — → 15 Jun 2026, 11:05" in page  # the merchant's clock
    assert "Result — → accepted" in page and "Result — → This card is deactivated." in page
    assert "deactivated a card" not in page  # another kind of change
    assert re.search(r'<option value="offline" selected>Counter without connection</option>',
                     response.get_data(as_text=True))
    assert "deactivated a card" in _text(client.get("/merchant/activity"))

    choose_language(client, "fr", page="/merchant/")
    french = _text(client.get("/merchant/activity?area=offline"))
    assert "Résultat — → accepté" in french
    assert "12,50 €" in french
