"""The platform dashboard and the programs list: a fixed number of statements whatever the
number of programs, a liability that matches a hand computation, settings that reach the
counter and the shop's pages, and support views that are read-only and recorded."""
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from loyalty.extensions import db
from loyalty.models import AuditEntry, LedgerDay
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.points import earn_points
from loyalty.services.engine.stamps import add_stamp
from loyalty.services.merchant import programs
from loyalty.services.platform import stats as platform_stats
from tests import factories
from tests.conftest import csrf_token_from


@pytest.fixture
def admin(app, client, auth):
    user = factories.user("Ada Admin", admin=True)
    db.session.commit()
    auth.login_as(user)
    return user


class Count:
    def __init__(self):
        self.engine = db.engine
        self.n = 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._one)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._one)

    def _one(self, *args):
        self.n += 1


def _shops(count, start=0):
    for n in range(start, start + count):
        team = factories.merchant_with_team(f"Shop {n:02d}", f"shop-{n:02d}", stores=1)
        program = (factories.points_program if n % 2 else factories.stamp_program)(team.merchant)
        card = factories.card(team.merchant, f"Customer {n}", email=f"c{n}@example.com")
        context = ActionContext(store_id=team.stores[0].id)
        if program.has_points:
            earn_points(card, 1000 + n, context=context)
        else:
            add_stamp(card, context=context)
    db.session.commit()


def _statements(client, url):
    client.get(url)  # warm: closes the days not yet summed, fills caches
    with Count() as count:
        assert client.get(url).status_code == 200
    return count.n


def test_the_dashboard_and_program_list_cost_the_same_for_2_and_30_programs(client, admin):
    _shops(2)
    few = (_statements(client, "/admin/"), _statements(client, "/admin/programs"))
    _shops(28, start=2)
    many = (_statements(client, "/admin/"), _statements(client, "/admin/programs"))
    assert few == many
    assert many[1] <= 6  # the page and its session; one statement for the list itself
    page = client.get("/admin/programs?sort=members").get_data(as_text=True)
    assert page.count("<tr>") >= 30 and "Shop 29" in page


def test_the_liability_is_the_hand_computed_value(client, admin):
    cafe = factories.merchant_with_team("Café", "cafe", stores=1)
    factories.stamp_program(cafe.merchant, stamps_target=10, stamp_reward_value_cents=350)
    bakery = factories.merchant_with_team("Bakery", "bakery", stores=1)
    factories.points_program(bakery.merchant, point_value_cents=Decimal("0.5"),
                             welcome_bonus_points=0)
    context = ActionContext(store_id=cafe.stores[0].id)
    for n in range(3):
        add_stamp(factories.card(cafe.merchant, f"S{n}", email=f"s{n}@example.com"),
                  context=context)
    earn_points(factories.card(bakery.merchant, "P", email="p@example.com"), 12345,
                context=ActionContext(store_id=bakery.stores[0].id))
    db.session.commit()
    # 3 stamps x 350 / 10 = 105 cents; EUR 123.45 x 10 points = 1,234 points x 0.5 = 617
    board = platform_stats.dashboard()
    assert board.liability == {"EUR": Decimal(105) + Decimal(617)}
    assert (board.outstanding_points, board.open_stamps) == (1234, 3)
    page = client.get("/admin/").get_data(as_text=True)
    assert "€7.22" in page


def test_the_liability_is_rounded_to_the_nearest_cent_alike_in_the_list_and_the_dashboard(
        client, admin):
    cafe = factories.merchant_with_team("Café", "cafe", stores=1)
    factories.stamp_program(cafe.merchant, stamps_target=3, stamp_reward_value_cents=100)
    bar = factories.merchant_with_team("Bar", "bar", stores=1)
    factories.stamp_program(bar.merchant, stamps_target=2, stamp_reward_value_cents=5)
    for team, cards in ((cafe, 2), (bar, 1)):
        for n in range(cards):
            add_stamp(factories.card(team.merchant, f"S{n}", email=f"s{n}@example.com"),
                      context=ActionContext(store_id=team.stores[0].id))
    db.session.commit()
    # Café: 2 stamps x 100 cents / 3 = 66.67 cents, so 67 (a whole-number division gives 66).
    # Bar: 1 stamp x 5 cents / 2 = 2.5 cents, so 3, half a cent up, on both pages.
    rows = platform_stats.program_list(platform_stats.ProgramFilters())[0]
    assert {name: liability for _program, name, *_rest, liability in rows} == \
        {"Café": 67, "Bar": 3}
    assert platform_stats.dashboard().liability == {"EUR": Decimal(70)}
    page = client.get("/admin/programs").get_data(as_text=True)
    assert "€0.67" in page and "€0.03" in page


def test_closed_days_are_summed_once_and_the_figures_stay_the_same(app, admin, frozen_clock):
    _shops(2)
    before = platform_stats.dashboard()
    frozen_clock.advance(days=2)
    assert platform_stats.close_days() is not None
    assert platform_stats.close_days() is None  # already done
    db.session.commit()
    assert db.session.scalar(select(func.sum(LedgerDay.rows))) > 0
    after = platform_stats.dashboard()
    assert after.all_time == before.all_time
    assert after.recent == before.recent
    frozen_clock.advance(days=40)
    assert platform_stats.dashboard().recent["transactions"] == 0


def test_admin_settings_reach_the_shops_pages_and_the_counter(client, auth, admin, merchant,
                                                               terminal):
    factories.points_program(merchant.merchant)
    assert client.get("/m/cafe-test/join").status_code == 200
    token = csrf_token_from(client.get(f"/admin/merchants/{merchant.merchant.id}/settings"))
    response = client.post(f"/admin/merchants/{merchant.merchant.id}/settings", data={
        "csrf_token": token, "void_window_days": "14", "allow_cross_location_redemption": "y",
        "pin_lockout_attempts": "", "pin_lockout_minutes": ""})
    assert response.status_code == 302
    db.session.commit()
    settings = programs.loyalty_settings(merchant.merchant.id)
    assert not settings.allow_self_enrollment and not settings.allow_voids
    assert client.get("/m/cafe-test/join").status_code == 403
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "settings.update"))
    assert entry.changes["allow_self_enrollment"] == [True, False]
    auth.logout()
    card = factories.card(merchant.merchant, "Vera Void", email="vera@example.com")
    db.session.commit()
    counter = terminal.sign_in(merchant.staff)
    page = counter.client.get(f"/terminal/cards/{card.id}").get_data(as_text=True)
    assert "/void" not in page  # no void button once voids are off


def test_support_views_are_read_only_and_recorded(client, admin, merchant):
    factories.points_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Sara Support", email="sara@example.com")
    db.session.commit()
    listing = client.get(f"/admin/merchants/{merchant.merchant.id}/cards").get_data(as_text=True)
    assert "Read-only view of Café Test" in listing and "Sara Support" in listing
    detail = client.get(f"/admin/merchants/{merchant.merchant.id}/cards/{card.id}")
    page = detail.get_data(as_text=True)
    assert "Read-only view" in page and card.card_number in page
    assert "Adjust points or stamps" not in page and "Deactivate the card" not in page
    stats = client.get(f"/admin/merchants/{merchant.merchant.id}/statistics")
    assert stats.status_code == 200 and "Read-only view" in stats.get_data(as_text=True)
    views = db.session.scalars(select(AuditEntry.changes).where(
        AuditEntry.action == "support.view").order_by(AuditEntry.id)).all()
    assert [v["page"][1] for v in views] == ["cards", "card", "statistics"]
    other = factories.merchant_with_team("Other", "other")
    db.session.commit()
    assert client.get(f"/admin/merchants/{other.merchant.id}/cards/{card.id}").status_code == 404
