"""Statistics: every figure equals a sum computed directly from the ledger (what was given net
of voids), liability included,
and the page costs the same number of queries for 1 store or 20, 1 day of history or 365."""
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from loyalty.extensions import db
from loyalty.models import LoyaltyCard, LoyaltyTransaction
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.points import earn_points, expire_points, redeem_reward
from loyalty.services.engine.stamps import add_stamp, redeem_stamp_reward
from loyalty.services.engine.voids import void_points, void_transaction
from loyalty.services.merchant import programs, stats
from loyalty.services.platform import accounts
from tests import factories


@pytest.fixture
def history(merchant, frozen_clock):
    """Two stores, five cards, a year of mixed activity on a hybrid program."""
    program = factories.hybrid_program(
        merchant.merchant, stamps_target=3, stamp_reward_value_cents=450, point_value_cents="0.5",
        welcome_bonus_points=10, points_expiration_days=30)
    cake = programs.add_reward(program, "Cake", 40)
    frozen_clock.set(frozen_clock.now - timedelta(days=400))
    made = [factories.card(merchant.merchant, f"Member {n}", store=merchant.stores[n % 2])
            for n in range(5)]
    for day in range(0, 400, 37):
        for index, card in enumerate(made):
            store = merchant.stores[(index + day) % 2]
            context = ActionContext(store_id=store.id, user_id=merchant.staff.id)
            add_stamp(card, context=context)
            if index % 2 == 0:
                earned = earn_points(card, 1250 + day, context=context)
                if day % 3 == 0:
                    void_points(card, earned.transaction.id, points=3, context=context)
        frozen_clock.advance(days=37)
        if day == 148:  # 37 quiet days: every balance of then expires
            expire_points(now=frozen_clock.now)
    context = ActionContext(store_id=merchant.stores[0].id, user_id=merchant.staff.id)
    card = db.session.get(LoyaltyCard, made[0].id)
    redeem_stamp_reward(card, context=context)
    redeem_reward(db.session.get(LoyaltyCard, made[2].id), cake.id, context=context)
    # a reward of each kind given then undone: counted neither as a reward nor as redeemed
    for index, redeem in ((1, lambda c: redeem_stamp_reward(c, context=context)),
                          (2, lambda c: redeem_reward(c, cake.id, context=context))):
        given = redeem(db.session.get(LoyaltyCard, made[index].id)).transaction
        void_transaction(db.session.get(LoyaltyCard, made[index].id), given.id, context=context)
    return program


def _expected(merchant, since, store_ids=None):
    """The figures, summed in Python from every ledger row."""
    rows = db.session.scalars(select(LoyaltyTransaction).where(
        LoyaltyTransaction.merchant_id == merchant.id)).all()
    if store_ids is not None:
        rows = [row for row in rows if row.store_id in store_ids]

    def figures(selected):
        total = Counter()
        for row in selected:
            kind = row.transaction_type.value
            total[f"{kind}:stamps"] += row.stamps_delta
            total[f"{kind}:points"] += row.points_delta
            total[f"{kind}:rows"] += 1
        return {
            # given, net of what was voided of it
            "stamps_issued": total["stamp_earned:stamps"] + total["stamp_voided:stamps"],
            "stamps_redeemed": -total["stamp_redeemed:stamps"] - total["stamp_reward_voided:stamps"],
            "stamps_voided": -total["stamp_voided:stamps"],
            "points_issued": (total["points_earned:points"] + total["welcome_bonus:points"]
                              + total["points_voided:points"]),
            "points_redeemed": (-total["points_redeemed:points"]
                                - total["points_reward_voided:points"]),
            "points_expired": -total["points_expired:points"],
            "points_voided": -total["points_voided:points"],
            "stamp_rewards": total["stamp_redeemed:rows"] - total["stamp_reward_voided:rows"],
            "catalogue_rewards": (total["points_redeemed:rows"]
                                  - total["points_reward_voided:rows"]),
        }

    return figures(rows), figures([row for row in rows if row.transaction_at >= since])


def _window_start(merchant):
    """The first of the last 30 local days: the figures and the chart cover the same days."""
    return stats.day_starts(merchant.merchant.timezone, 30)[1][0]


def test_every_figure_equals_the_ledger_sums_liability_included(merchant, history, frozen_clock):
    gone = db.session.scalars(select(LoyaltyCard).order_by(LoyaltyCard.id)).all()[-1]
    accounts.delete_record(gone)  # a deleted card's history still happened
    figures = stats.merchant_stats(merchant.merchant, history)
    all_time, recent = _expected(merchant, _window_start(merchant))
    assert figures.all_time == all_time
    assert figures.recent == recent
    assert all_time["points_expired"] > 0 and all_time["points_voided"] > 0
    assert all_time["stamp_rewards"] == 1 and all_time["catalogue_rewards"] == 1
    assert all_time["stamps_redeemed"] == 3 and all_time["points_redeemed"] == 40
    cards = db.session.scalars(select(LoyaltyCard)).all()
    points = sum(card.points_balance for card in cards)
    stamps = sum(card.stamp_count for card in cards)
    assert (figures.outstanding_points, figures.open_stamps) == (points, stamps)
    assert figures.members == 4
    expected_liability = Decimal(points) * Decimal("0.5") + Decimal(stamps) * 450 / 3
    assert figures.liability_cents == expected_liability.quantize(Decimal("1"))
    assert sum(day.stamps for day in figures.days) == recent["stamps_issued"]
    by_store = {row.store_id: row for row in figures.stores}
    for store in merchant.stores:
        _store_all, store_recent = _expected(merchant, _window_start(merchant),
                                             store_ids={store.id})
        assert by_store[store.id].recent == store_recent


def test_a_manager_sees_the_figures_of_their_stores(merchant, history, frozen_clock):
    gare = merchant.stores[0]
    figures = stats.merchant_stats(merchant.merchant, history, store_ids=[gare.id])
    all_time, _recent = _expected(merchant, frozen_clock.now, store_ids={gare.id})
    assert figures.all_time == all_time
    assert [row.store_id for row in figures.stores] == [gare.id]
    assert figures.members == db.session.query(LoyaltyCard).filter_by(
        enrolled_at_store_id=gare.id).count()


def test_days_are_the_merchants_local_days(merchant, frozen_clock):
    """23:30 UTC on 30 June is already 1 July in Luxembourg (UTC+2 in summer)."""
    factories.stamp_program(merchant.merchant, cooldown_minutes=0, max_stamps_per_day=10)
    card = factories.card(merchant.merchant, "Late Lou", store=merchant.stores[0])
    frozen_clock.set(frozen_clock.now.replace(month=6, day=30, hour=23, minute=30))
    add_stamp(card, context=ActionContext(store_id=merchant.stores[0].id))
    frozen_clock.advance(hours=2)
    figures = stats.merchant_stats(merchant.merchant, programs.live_program(merchant.id))
    assert figures.days[-1].date.isoformat().endswith("07-01")
    assert figures.days[-1].stamps == 1 and figures.days[-2].stamps == 0


class Statements:
    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._count)
        self.engine = engine

    def _count(self, *args):
        self.count += 1

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._count)


def _page_statements(app, auth, client, merchant):
    auth.login_as(merchant.owner)
    counter = Statements(db.engine)
    try:
        response = client.get("/merchant/stats")
    finally:
        counter.close()
    assert response.status_code == 200
    auth.logout()
    return counter.count


def test_the_page_costs_the_same_queries_for_1_or_20_stores_and_1_or_365_days(
        app, auth, client, merchant, frozen_clock):
    factories.hybrid_program(merchant.merchant, cooldown_minutes=0, max_stamps_per_day=50)
    card = factories.card(merchant.merchant, "Daisy Daily", store=merchant.stores[0])
    add_stamp(card, context=ActionContext(store_id=merchant.stores[0].id))
    small = _page_statements(app, auth, client, merchant)
    for n in range(18):
        store = accounts.create_store(merchant.merchant, f"Extra {n}", f"X{n}")
        extra = factories.card(merchant.merchant, f"Extra member {n}", store=store)
        add_stamp(extra, context=ActionContext(store_id=store.id))
    start = frozen_clock.now
    frozen_clock.set(start - timedelta(days=365))
    yearly = factories.card(merchant.merchant, "Yearly Yves", store=merchant.stores[1])
    for day in range(365):
        add_stamp(db.session.get(LoyaltyCard, yearly.id), context=ActionContext(
            store_id=merchant.stores[day % 2].id))
        frozen_clock.advance(days=1)
    frozen_clock.set(start)
    assert _page_statements(app, auth, client, merchant) == small


@pytest.mark.parametrize("who", ["owner", "manager"])
def test_the_stats_page_shows_the_figures(auth, client, merchant, history, who):
    auth.login_as(getattr(merchant, who))
    page = client.get("/merchant/stats")
    assert page.status_code == 200
    assert "Stamps given per day" in page.text and "<svg" in page.text
    assert 'data-testid="members"' in page.text


def test_staff_cannot_see_statistics_and_a_store_not_theirs_is_not_found(auth, client, merchant):
    auth.login_as(merchant.staff)
    assert client.get("/merchant/stats").status_code == 403
    auth.logout()
    auth.login_as(merchant.manager)
    assert client.get("/merchant/stats", query_string={"store": merchant.stores[1].id}).status_code == 404
