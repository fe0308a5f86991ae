"""What an owner reads (issue #21, item 10): the transactions export names the reward of each
reward row; the activity page shows roles, stores and kinds of program by their names and only
changes somebody made; the statistics are net of voids with a row of their own for voided
stamps; reward names follow the page's language on the card history, the customer's card page
and the terminal; counts take the plural form their number asks for."""
import csv
import io
import re

import pytest

from loyalty.blueprints.merchant.forms import program_form_data
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import LoyaltyProgram, Reward
from loyalty.services import audit
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.points import earn_points, redeem_reward
from loyalty.services.engine.stamps import add_stamp, redeem_stamp_reward
from loyalty.services.engine.voids import void_stamps
from loyalty.services.merchant import programs
from tests import factories
from tests.conftest import choose_language, csrf_token_from

TAGS = re.compile(r"<[^>]+>")


def _text(response):
    """The page's words, without its markup and with runs of spaces made one."""
    return " ".join(TAGS.sub(" ", response.get_data(as_text=True)).split())


def _post(client, url, data):
    token = csrf_token_from(client.get("/account"))
    return client.post(url, data={**data, "csrf_token": token})


@pytest.fixture
def given_rewards(merchant, counter):
    """A hybrid card that was given its stamp reward (a free coffee) and a catalogue reward
    (a cake), both named in French and Luxembourgish by the owner."""
    program = factories.hybrid_program(merchant.merchant, stamp_reward_description="A free coffee",
                                       stamps_target=5)
    cake = programs.add_reward(program, "Cake", 40)
    program = db.session.get(LoyaltyProgram, program.id)
    program.translations = {"fr": {"stamp_reward_description": "Un café offert"},
                            "lb": {"stamp_reward_description": "E Kaffi gratis"}}
    db.session.get(Reward, cake.id).translations = {"fr": {"name": "Un gâteau"},
                                                    "lb": {"name": "E Kuch"}}
    db.session.commit()
    card = factories.card(merchant.merchant, "Rita Reward", store=merchant.stores[0])
    add_stamp(card, context=counter, quantity=5)
    redeem_stamp_reward(card, context=counter)
    earn_points(card, 1000, context=counter)
    redeem_reward(card, cake.id, context=counter)
    return card


def _csv_rows(response, delimiter):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")),
                           delimiter=delimiter))


def test_the_transactions_export_names_the_reward_of_each_reward_row(
        auth, client, merchant, given_rewards):
    auth.login_as(merchant.owner)
    rows = _csv_rows(client.get("/merchant/exports/transactions.csv"), ",")
    assert rows[0][1:3] == ["What", "Reward"]
    assert [row[1:3] for row in rows[1:] if row[2]] == [["Stamp reward", "A free coffee"],
                                                    ["Reward", "Cake"]]
    choose_language(client, "fr", page="/merchant/")
    rows = _csv_rows(client.get("/merchant/exports/transactions.csv"), ";")
    assert rows[0][1:3] == ["Opération", "Récompense"]
    assert [row[2] for row in rows[1:] if row[2]] == ["Un café offert", "Un gâteau"]


def test_reward_names_follow_the_page_language_wherever_a_history_shows_them(
        auth, client, merchant, given_rewards, terminal):
    card = given_rewards
    # The customer's own card page, in French.
    choose_language(client, "fr", page=f"/card/{card.page_secret}")
    page = _text(client.get(f"/card/{card.page_secret}"))
    assert "Un café offert" in page and "Un gâteau" in page
    assert "A free coffee" not in page and "Cake" not in page
    # The owner's card history, in Luxembourgish.
    auth.login_as(merchant.owner)
    choose_language(client, "lb", page="/merchant/")
    page = _text(client.get(f"/merchant/cards/{card.id}"))
    assert "E Kaffi gratis" in page and "E Kuch" in page
    assert "A free coffee" not in page and "Cake" not in page
    auth.logout()
    # The counter, in Luxembourgish: the history, the catalogue and what a redemption says.
    tablet = terminal.sign_in(merchant.staff, merchant.stores[0])
    choose_language(client, "lb", page="/terminal/")
    earn_points(card, 1000, context=ActionContext(store_id=merchant.stores[0].id))
    panel = _text(client.get(f"/terminal/cards/{card.id}", headers=tablet.HTMX))
    assert "E Kaffi gratis" in panel and "E Kuch" in panel and "Cake" not in panel
    cake = db.session.scalar(db.select(Reward).where(Reward.name == "Cake"))
    sheet = _text(tablet.sheet(card.id, "redeem", reward_id=cake.id))
    assert "E Kuch fir 40 Punkten aléisen?" in sheet
    done = _text(tablet.act(card.id, "redeem", reward_id=cake.id))
    assert "E Kuch fir 40 Punkten ageléist." in done and "Cake" not in done


def test_a_reward_renamed_since_keeps_the_name_it_was_given_under(
        auth, client, merchant, given_rewards):
    cake = db.session.scalar(db.select(Reward).where(Reward.name == "Cake"))
    programs.update_reward(cake, name="Chocolate cake", points_cost=40)
    auth.login_as(merchant.owner)
    choose_language(client, "fr", page="/merchant/")
    page = _text(client.get(f"/merchant/cards/{given_rewards.id}"))
    # "Un gâteau" translated the name "Cake"; the reward is called otherwise now.
    assert "Récompense · Cake" in page and "Un gâteau" not in page
    assert "Récompense (tampons) · Un café offert" in page


def test_the_activity_names_roles_stores_and_kinds_of_program(auth, client, merchant):
    auth.login_as(merchant.owner)
    kirchberg = merchant.stores[1]
    assert _post(client, "/merchant/team", {"email": "nina@example.com", "name": "Nina New",
                                            "role": "store_staff",
                                            "store_id": str(kirchberg.id)}).status_code == 302
    membership = merchant.staff.memberships[0]
    assert _post(client, f"/merchant/team/{membership.id}/role",
                 {"role": "store_manager", "store_id": str(kirchberg.id)}).status_code == 302
    assert _post(client, "/merchant/program", {
        "program_type": "stamps", "card_name": "Coffee card", "stamps_target": "8",
        "stamp_reward_description": "A free coffee", "stamp_reward_value": "3.50",
        "cooldown_minutes": "15", "max_stamps_per_day": "5"}).status_code == 302
    page = _text(client.get("/merchant/activity"))
    assert f"Store — → {kirchberg.name}" in page
    assert "Role — → Staff" in page and "Role Staff → Manager" in page
    assert "Kind of program — → Stamp card" in page
    assert "What the reward is worth — → €3.50" in page
    for code in ("store_staff", "store_manager", "→ stamps", f"→ {kirchberg.id} ", "→ 350"):
        assert code not in page
    choose_language(client, "fr", page="/merchant/")
    page = _text(client.get("/merchant/activity"))
    assert "Rôle Personnel → Responsable" in page and "Type de programme — → Carte à tampons" in page
    assert "store_staff" not in page


def test_the_activity_shows_only_changes_somebody_made(auth, client, merchant):
    program = factories.points_program(merchant.merchant)  # a point is worth 1 cent
    auth.login_as(merchant.owner)
    shown = {name: "y" if value is True else value  # a ticked box sends "y"
             for name, value in program_form_data(program).items() if value not in (None, False)}
    assert _post(client, "/merchant/program", {**shown, "card_name": "Bread points"}
                 ).status_code == 302
    assert _post(client, "/merchant/program", {**shown, "card_name": "Bread points"}
                 ).status_code == 302  # saved again as it is
    with write_transaction():  # written before values were compared as values
        audit.record(audit.Actor(user_id=merchant.owner.id), "program.update", program,
                     merchant_id=merchant.id, label="Old entry",
                     changes={"point_value_cents": ["1.0000", "1"]})
    page = _text(client.get("/merchant/activity"))
    assert "Card name Bakery points → Bread points" in page
    assert page.count("changed the program") == 1
    assert "Value of one point" not in page and "Old entry" not in page


def test_the_statistics_are_net_of_voids_with_a_row_for_voided_stamps(
        auth, client, merchant, counter, frozen_clock):
    factories.stamp_program(merchant.merchant, cooldown_minutes=0, max_stamps_per_day=10)
    card = factories.card(merchant.merchant, "Vera Void", store=merchant.stores[0])
    given = [add_stamp(card, context=counter).transaction for _ in range(3)]
    frozen_clock.advance(days=1)  # voided the next day: taken off the day it was given
    void_stamps(card, given[0].id, context=counter)
    auth.login_as(merchant.owner)
    page = client.get("/merchant/stats").get_data(as_text=True)
    assert 'data-testid="recent-stamps_issued">2<' in page
    assert 'data-testid="all-stamps_issued">2<' in page
    assert 'data-testid="all-stamps_voided">1<' in page and "Stamps voided" in page
    assert "Stamps given per day" in page and "(highest: 2)" in page
    assert re.search(r"<title>[^<]*: -1</title>", page) is None  # no day below nothing
    admin = factories.user("Ada Admin", admin=True)
    auth.logout()
    auth.login_as(admin)
    board = client.get("/admin/").get_data(as_text=True)
    assert 'data-testid="recent-stamps_issued">2<' in board


def stamped_html(tablet, card):
    return tablet.client.get(f"/terminal/cards/{card.id}", headers=tablet.HTMX).get_data(
        as_text=True)


def test_counts_take_the_plural_form_of_their_number(merchant, terminal, counter):
    program = factories.hybrid_program(merchant.merchant, stamp_reward_description="A free coffee",
                                       stamps_target=1, cooldown_minutes=1,
                                       minimum_redemption_points=1)
    pebble = programs.add_reward(program, "Pebble", 1)
    card = factories.card(merchant.merchant, "Una One", store=merchant.stores[0])
    tablet = terminal.sign_in(merchant.staff, merchant.stores[0])
    stamped = _text(tablet.act(card.id, "stamp"))
    assert "Stamp added. 1 of 1: the reward is ready!" in stamped
    assert "less than 1 minute ago" in _text(tablet.sheet(card.id, "stamp"))
    stamp = re.search(r"sheet/void\?transaction_id=(\d+)", stamped_html(tablet, card)).group(1)
    voided = _text(tablet.act(card.id, "void", transaction_id=stamp))
    assert "1 stamp taken back. Now 0 stamps." in voided
    earned = _text(tablet.act(card.id, "earn", amount="0.10"))
    assert "1 point added. New balance: 1 point." in earned
    assert "Pebble 1 pt" in earned and "1 point" in earned
    sheet = _text(tablet.sheet(card.id, "redeem", reward_id=pebble.id))
    assert "Redeem Pebble for 1 point? The card has 1 point." in sheet
    redeemed = _text(tablet.act(card.id, "redeem", reward_id=pebble.id))
    assert "Pebble redeemed for 1 point. New balance: 0 points." in redeemed
    for wrong in ("1 stamps", "1 points", "1 pts", "1 minutes"):
        assert wrong not in stamped + voided + earned + sheet + redeemed
