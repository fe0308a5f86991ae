"""The owner sets up the program, the reward catalogue and switches the program on."""
import re

import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import AuditEntry, LoyaltyProgram, Reward
from loyalty.services.merchant import programs
from tests import factories
from tests.conftest import csrf_token_from

POINTS_PROGRAM = {
    "program_type": "points", "card_name": "Bakery points", "points_per_euro": "10",
    "point_value": "0.5", "minimum_purchase": "2,00", "minimum_redemption_points": "50",
    "welcome_bonus_points": "20", "points_expiration_days": "365", "require_staff_pin": "y",
}


@pytest.fixture
def owner(auth, merchant):
    auth.login_as(merchant.owner)
    return merchant


def _post(client, url, data, **kwargs):
    token = csrf_token_from(client.get("/account"))
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def test_a_new_owner_lands_on_the_checklist(client, owner):
    page = client.get("/merchant/")
    # Its stores are there already.
    assert "Getting started" in page.text and "1 of 7 steps done." in page.text
    assert 'href="/merchant/program"' in page.text


def test_creating_a_points_program_saves_it_switched_off_and_ticks_the_checklist(client, owner):
    created = _post(client, "/merchant/program", POINTS_PROGRAM)
    assert created.status_code == 302
    program = db.session.scalar(select(LoyaltyProgram))
    assert program.program_type.value == "points" and not program.is_active
    assert program.points_per_euro == 10 and str(program.point_value_cents) == "0.5000"
    assert program.minimum_purchase_cents == 200 and program.points_expiration_days == 365
    assert "2 of 7 steps done." in client.get("/merchant/").text
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "program.create"))
    assert entry.actor_id == owner.owner.id and entry.changes["points_per_euro"] == [None, 10]


def test_invalid_settings_are_refused_next_to_the_field_and_nothing_is_saved(client, owner):
    refused = _post(client, "/merchant/program", {**POINTS_PROGRAM, "points_per_euro": "-3",
                                                  "point_value": "abc", "card_name": ""})
    assert refused.status_code == 422
    text = refused.text
    assert "Enter a number of points from 0 to 1000." in text
    assert "Enter what one point is worth, for example 1 or 0.5." in text
    assert "Give the card a name customers will recognise." in text
    assert 'aria-invalid="true"' in text
    assert db.session.scalar(select(LoyaltyProgram)) is None


def test_only_the_chosen_kinds_fields_are_checked_and_shown(client, owner):
    created = _post(client, "/merchant/program", {"program_type": "stamps", "card_name": "Coffee",
                                                  "stamps_target": "8",
                                                  "stamp_reward_description": "A free coffee",
                                                  "stamp_reward_value": "3.20",
                                                  "cooldown_minutes": "10",
                                                  "max_stamps_per_day": "3"})
    assert created.status_code == 302
    program = db.session.scalar(select(LoyaltyProgram))
    assert program.stamps_target == 8 and program.stamp_reward_value_cents == 320
    assert not program.require_staff_pin  # the box was not ticked
    page = client.get("/merchant/program").text
    assert 'id="stamps_target"' in page and 'id="points_per_euro"' not in page  # not shown


def test_switching_the_kind_swaps_the_fields_and_keeps_what_was_typed(client, owner):
    swapped = client.get("/merchant/program/fields", headers={"HX-Request": "true"},
                         query_string={"program_type": "hybrid", "card_name": "Typed name",
                                       "stamps_target": "7"})
    assert swapped.status_code == 200 and "<html" not in swapped.text
    assert 'name="points_per_euro"' in swapped.text and 'name="stamps_target"' in swapped.text
    assert 'value="Typed name"' in swapped.text and 'value="7"' in swapped.text
    assert re.search(r'name="points_per_euro"[^>]*value="10"', swapped.text)  # a starting value
    pin_box = re.search(r'<input[^>]*name="require_staff_pin"[^>]*>', swapped.text).group(0)
    assert "checked" not in pin_box  # the box left unticked stays so (a checkbox sends nothing)


def test_an_edit_records_old_and_new_values_and_the_actor(client, owner):
    program = factories.points_program(owner.merchant)
    saved = _post(client, "/merchant/program", {**POINTS_PROGRAM, "points_per_euro": "12"})
    assert saved.status_code == 302
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "program.update"))
    assert entry.changes["points_per_euro"] == [10, 12]
    assert entry.actor_id == owner.owner.id and entry.target_id == program.id
    assert entry.ip_address == "127.0.0.1"


def test_switching_on_and_off_asks_first_and_says_what_happens(client, owner):
    program = factories.points_program(owner.merchant)
    programs.deactivate_program(program)
    confirm = client.get("/merchant/program/activate")
    assert "Staff can add stamps and points and give rewards at the terminal." in confirm.text
    assert not db.session.get(LoyaltyProgram, program.id).is_active
    assert _post(client, "/merchant/program/activate", {}).status_code == 302
    db.session.expire_all()
    assert db.session.get(LoyaltyProgram, program.id).is_active
    off = client.get("/merchant/program/deactivate")
    assert "Customers keep their cards and balances" in off.text


def test_rewards_are_added_edited_reordered_and_retired_never_deleted(client, owner):
    program = factories.points_program(owner.merchant, rewards=())
    for name, cost in (("Croissant", "50"), ("Cake", "200")):
        assert _post(client, "/merchant/rewards", {"name": name, "points_cost": cost}).status_code == 302
    croissant, cake = db.session.scalars(select(Reward).order_by(Reward.id)).all()
    moved = _post(client, f"/merchant/rewards/{cake.id}/up", {}, headers={"HX-Request": "true"})
    assert moved.status_code == 200 and "<html" not in moved.text
    assert moved.text.index("Cake") < moved.text.index("Croissant")
    retired = _post(client, f"/merchant/rewards/{croissant.id}/retire", {},
                    headers={"HX-Request": "true"})
    assert "Offer again" in retired.text
    assert [r.name for r in programs.active_rewards(program)] == ["Cake"]
    assert db.session.scalar(select(Reward).where(Reward.id == croissant.id)) is not None
    edited = _post(client, f"/merchant/rewards/{cake.id}", {"name": "Big cake", "points_cost": "250"})
    assert edited.status_code == 302
    db.session.expire_all()
    assert db.session.get(Reward, cake.id).points_cost == 250
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["reward.create", "reward.create", "reward.move", "reward.deactivate",
                       "reward.update"]


def test_a_bad_reward_is_refused_next_to_the_field(client, owner):
    factories.points_program(owner.merchant, rewards=())
    refused = _post(client, "/merchant/rewards", {"name": "", "points_cost": "0"})
    assert refused.status_code == 422
    assert "Give the reward a name." in refused.text
    assert "Enter a number of points from 1 to 1,000,000." in refused.text
    assert db.session.scalar(select(Reward)) is None


@pytest.mark.parametrize(("who", "status"), [("staff", 403), ("manager", 403)])
def test_staff_and_managers_cannot_open_the_program_pages(auth, client, merchant, who, status):
    auth.login_as(getattr(merchant, who))
    for url in ("/merchant/program", "/merchant/rewards", "/merchant/program/activate"):
        assert client.get(url).status_code == status


def test_the_rewards_page_and_its_partial(client, owner):
    factories.points_program(owner.merchant)
    page = client.get("/merchant/rewards")
    assert "<html" in page.text and "Croissant" in page.text
    partial = client.get("/merchant/rewards", headers={"HX-Request": "true"})
    assert "<html" not in partial.text and "Croissant" in partial.text
