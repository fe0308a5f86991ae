"""Happy hours (issue #27): applied at the action's time on the merchant's clock (start
included, end excluded, summer time included), per store, weekday and date range; points
multiplied, extra stamps within the daily cap; the ledger row keeps the base and the happy
hour, a void takes back exactly what was given; the counter, the API and the offline sync
alike."""
import uuid
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import LoyaltyCard, LoyaltyTransaction, TransactionType
from loyalty.services.audit import Actor
from loyalty.services.engine import offline
from loyalty.services.engine.ledger import ActionContext, ledger_drift
from loyalty.services.engine.points import earn_points
from loyalty.services.engine.stamps import add_stamp
from loyalty.services.engine.voids import void_points, void_stamps
from loyalty.services.errors import Refused
from loyalty.services.integrations import api_keys
from loyalty.services.merchant import happy_hours
from tests import factories

LUXEMBOURG, NEW_YORK = "Europe/Luxembourg", "America/New_York"
EVERY_DAY = tuple(range(7))


def schedule(team, kind="points", *, factor=2, extra=1, days=EVERY_DAY, start="14:00",
             end="17:00", starts_on=date(2026, 1, 1), ends_on=None, stores=None, name="Happy"):
    return happy_hours.create_happy_hour(
        team.merchant, name=name, kind=kind, factor=factor if kind == "points" else None,
        extra_stamps=extra if kind == "stamps" else None, weekdays=list(days),
        start_time=time.fromisoformat(start), end_time=time.fromisoformat(end),
        starts_on=starts_on, ends_on=ends_on, all_stores=stores is None,
        store_ids=[store.id for store in stores or ()])


def set_timezone(team, timezone):
    with write_transaction():
        team.merchant.timezone = timezone


def local(timezone, *parts):
    """An instant given on ``timezone``'s wall clock, in UTC."""
    return datetime(*parts, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


@pytest.fixture
def bakery(merchant):
    factories.points_program(merchant.merchant, minimum_purchase_cents=100)  # 10 points/EUR
    return merchant


@pytest.fixture
def card(bakery):
    return factories.card(bakery.merchant)


def earned(card, counter, cents=500):
    return earn_points(card, cents, context=counter).transaction


@pytest.mark.parametrize("timezone", [LUXEMBOURG, NEW_YORK])
def test_the_window_starts_included_and_ends_excluded_on_the_merchants_clock(
        bakery, card, counter, frozen_clock, timezone):
    set_timezone(bakery, timezone)
    hour = schedule(bakery, days=(0,))  # Mondays 14:00-17:00; 15 June 2026 is a Monday
    found = []
    for moment in [(13, 59, 59), (14, 0, 0), (16, 59, 59), (17, 0, 0)]:
        frozen_clock.set(local(timezone, 2026, 6, 15, *moment))
        row = earned(card, counter)
        found.append((row.points_delta, row.base_delta, row.happy_hour_id))
    assert found == [(50, None, None), (100, 50, hour.id), (100, 50, hour.id), (50, None, None)]
    assert db.session.get(LoyaltyCard, card.id).points_balance == 300


@pytest.mark.parametrize("timezone, inside, outside", [
    # Luxembourg goes to summer time on Sunday 29 March 2026 at 02:00 (UTC+1 -> UTC+2):
    # 10:00-12:00 that day is 08:00-10:00 UTC, not 09:00-11:00.
    (LUXEMBOURG, [(2026, 3, 29, 8, 0), (2026, 3, 29, 9, 59)],
     [(2026, 3, 29, 7, 59), (2026, 3, 29, 10, 0), (2026, 3, 29, 10, 30)]),
    # New York on Sunday 8 March 2026 (UTC-5 -> UTC-4): 10:00-12:00 is 14:00-16:00 UTC.
    (NEW_YORK, [(2026, 3, 8, 14, 0), (2026, 3, 8, 15, 59)],
     [(2026, 3, 8, 13, 59), (2026, 3, 8, 16, 0), (2026, 3, 8, 16, 30)]),
])
def test_summer_time_day_follows_the_wall_clock(bakery, card, counter, frozen_clock, timezone,
                                                 inside, outside):
    set_timezone(bakery, timezone)
    schedule(bakery, days=(6,), start="10:00", end="12:00")
    for moment, expected in [*[(m, 100) for m in inside], *[(m, 50) for m in outside]]:
        frozen_clock.set(datetime(*moment, tzinfo=UTC))
        assert earned(card, counter).points_delta == expected, moment


def test_the_hour_repeated_in_autumn_is_inside_both_times(bakery, card, counter, frozen_clock):
    # Sunday 25 October 2026, Luxembourg: 02:00-03:00 happens twice (UTC+2, then UTC+1).
    schedule(bakery, days=(6,), start="02:00", end="03:00")
    for moment, expected in [((0, 30), 100), ((1, 30), 100), ((2, 0), 50), ((23, 59), 50)]:
        day = 25 if moment[0] < 23 else 24
        frozen_clock.set(datetime(2026, 10, day, *moment, tzinfo=UTC))
        assert earned(card, counter).points_delta == expected, moment


def test_it_applies_at_the_stores_chosen_only(bakery, card, counter, frozen_clock):
    gare, other = bakery.stores
    schedule(bakery, stores=[gare])
    frozen_clock.set(local(LUXEMBOURG, 2026, 6, 15, 15, 0))
    assert earned(card, ActionContext(store_id=gare.id)).points_delta == 100
    assert earned(card, ActionContext(store_id=other.id)).points_delta == 50


def test_weekdays_and_the_date_range_decide_the_day(bakery, card, counter, frozen_clock):
    frozen_clock.set(local(LUXEMBOURG, 2026, 6, 15, 15, 0))  # a Monday
    schedule(bakery, days=(1,), factor=5, name="Tuesdays")
    schedule(bakery, starts_on=date(2026, 6, 16), factor=6, name="From tomorrow")
    schedule(bakery, ends_on=date(2026, 6, 14), factor=7, name="Ended yesterday")
    assert earned(card, counter).points_delta == 50
    last_day = schedule(bakery, ends_on=date(2026, 6, 15), factor=3, name="Ends today")
    row = earned(card, counter)
    assert (row.points_delta, row.happy_hour_id) == (150, last_day.id)


def test_overlapping_happy_hours_do_not_stack_the_largest_applies(bakery, card, counter,
                                                                  frozen_clock):
    schedule(bakery, factor=2, name="Double")
    triple = schedule(bakery, factor=3, start="15:00", end="16:00", name="Triple")
    frozen_clock.set(local(LUXEMBOURG, 2026, 6, 15, 15, 30))
    row = earned(card, counter)
    assert (row.points_delta, row.base_delta, row.happy_hour_id) == (150, 50, triple.id)


def test_a_paused_or_deleted_happy_hour_applies_no_more(bakery, card, counter, frozen_clock):
    hour = schedule(bakery)
    frozen_clock.set(local(LUXEMBOURG, 2026, 6, 15, 15, 0))
    assert earned(card, counter).points_delta == 100
    happy_hours.delete_happy_hour(hour)
    assert earned(card, counter).points_delta == 50


def test_a_void_of_a_doubled_purchase_takes_back_exactly_what_was_given(bakery, card, counter,
                                                                        frozen_clock):
    schedule(bakery)
    frozen_clock.set(local(LUXEMBOURG, 2026, 6, 15, 15, 0))
    row = earned(card, counter, 1250)
    assert (row.points_delta, row.base_delta) == (250, 125)
    frozen_clock.set(local(LUXEMBOURG, 2026, 6, 15, 18, 0))  # voided after the happy hour
    void = void_points(card, row.id, context=counter).transaction
    assert (void.points_delta, void.void_shortfall) == (-250, 0)
    assert db.session.get(LoyaltyCard, card.id).points_balance == 0
    assert ledger_drift() == []


@pytest.fixture
def coffee(merchant):
    factories.stamp_program(merchant.merchant, cooldown_minutes=0, max_stamps_per_day=3)
    return merchant


def test_extra_stamps_count_toward_the_daily_cap_and_fill_what_room_is_left(
        coffee, counter, frozen_clock):
    card = factories.card(coffee.merchant)
    hour = schedule(coffee, "stamps", extra=1)
    frozen_clock.set(local(LUXEMBOURG, 2026, 6, 15, 15, 0))
    first = add_stamp(card, context=counter).transaction
    assert (first.stamps_delta, first.base_delta, first.happy_hour_id) == (2, 1, hour.id)
    second = add_stamp(card, context=counter).transaction  # one stamp of room left
    assert (second.stamps_delta, second.base_delta, second.happy_hour_id) == (1, None, None)
    with pytest.raises(Refused, match="daily limit"):
        add_stamp(card, context=counter)
    assert db.session.get(LoyaltyCard, card.id).stamp_count == 3


def test_a_visit_of_several_stamps_gets_one_extra_and_its_void_frees_the_cap(
        coffee, counter, frozen_clock):
    card = factories.card(coffee.merchant)
    schedule(coffee, "stamps", extra=2)
    frozen_clock.set(local(LUXEMBOURG, 2026, 6, 15, 15, 0))
    with pytest.raises(Refused, match="Only 3 more stamps"):
        add_stamp(card, context=counter, quantity=4)  # the visit's own stamps still obey
    row = add_stamp(card, context=counter, quantity=2).transaction
    assert (row.stamps_delta, row.base_delta) == (3, 2)  # 2 + 1: the cap left room for 1
    void = void_stamps(card, row.id, context=counter).transaction
    assert void.stamps_delta == -3
    again = add_stamp(card, context=counter).transaction
    assert (again.stamps_delta, again.base_delta) == (3, 1)
    assert ledger_drift() == []


# --- the same at the counter, through the API and from a tablet back online --------------

def test_the_terminal_panel_shows_it_and_the_counter_applies_it(bakery, card, terminal,
                                                                 frozen_clock):
    gare = bakery.stores[0]
    schedule(bakery, stores=[gare])
    frozen_clock.set(local(LUXEMBOURG, 2026, 6, 15, 15, 0))
    terminal.sign_in(bakery.staff)
    panel = terminal.find(card.card_number)
    assert "Double points until 17:00" in panel.text
    done = terminal.act(card.id, "earn", amount="5.00")
    assert done.status_code == 200
    row = db.session.scalars(select(LoyaltyTransaction).where(
        LoyaltyTransaction.card_id == card.id,
        LoyaltyTransaction.transaction_type == TransactionType.POINTS_EARNED)).one()
    assert (row.points_delta, row.base_delta, row.store_id) == (100, 50, gare.id)
    frozen_clock.set(local(LUXEMBOURG, 2026, 6, 15, 17, 0))
    assert "Double points" not in terminal.find(card.card_number).text


def test_the_panel_says_the_extra_stamps_per_visit(coffee, terminal, frozen_clock):
    card = factories.card(coffee.merchant)
    schedule(coffee, "stamps", extra=1, end="18:30")
    frozen_clock.set(local(LUXEMBOURG, 2026, 6, 15, 15, 0))
    terminal.sign_in(coffee.staff)
    assert "+1 stamp per visit until 18:30" in terminal.find(card.card_number).text
    assert terminal.act(card.id, "stamp").status_code == 200
    assert db.session.get(LoyaltyCard, card.id).stamp_count == 2


def test_the_api_applies_it_at_the_keys_store(app, client, bakery, card, frozen_clock):
    app.config["API_RATE_LIMIT"] = "100000 per second"
    gare, other = bakery.stores
    schedule(bakery, stores=[gare])
    frozen_clock.set(local(LUXEMBOURG, 2026, 6, 15, 15, 0))
    answers = []
    for store, reference in ((gare, "G-1"), (other, "O-1")):
        _row, key = api_keys.create_key(bakery.merchant.id, name=f"Till {reference}",
                                        scopes=("cards:read", "purchases"), store_id=store.id)
        response = client.post(f"/api/v1/cards/{card.card_number}/purchases",
                               json={"order_reference": reference, "amount": "5.00",
                                     "currency": "EUR"},
                               headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 201, response.json
        answers.append((response.json["points_earned"], response.json["points_multiplier"]))
    assert answers == [(100, 2), (50, 1)]


def test_the_api_stamps_get_the_extra_stamp_within_the_cap(app, client, coffee, frozen_clock):
    app.config["API_RATE_LIMIT"] = "100000 per second"
    card = factories.card(coffee.merchant)
    schedule(coffee, "stamps", extra=1)
    _row, key = api_keys.create_key(coffee.merchant.id, name="Till", scopes=("cards:read",
                                    "purchases"), store_id=coffee.stores[0].id)
    frozen_clock.set(local(LUXEMBOURG, 2026, 6, 15, 15, 0))
    added = [client.post(f"/api/v1/cards/{card.card_number}/stamps", json={"quantity": 1},
                         headers={"Authorization": f"Bearer {key}"}).json["stamps_added"]
             for _visit in range(2)]
    assert added == [2, 1]  # the daily cap of 3 leaves no room for the second visit's extra


def test_an_api_refund_of_a_doubled_order_takes_back_what_it_gave(app, client, bakery, card,
                                                                  frozen_clock):
    app.config["API_RATE_LIMIT"] = "100000 per second"
    schedule(bakery)
    _row, key = api_keys.create_key(bakery.merchant.id, name="Till", store_id=None,
                                    scopes=("cards:read", "purchases"))
    headers = {"Authorization": f"Bearer {key}"}
    frozen_clock.set(local(LUXEMBOURG, 2026, 6, 15, 15, 0))
    bought = client.post(f"/api/v1/cards/{card.card_number}/purchases", headers=headers,
                         json={"order_reference": "R-1", "amount": "10.00", "currency": "EUR"})
    assert bought.json["points_earned"] == 200
    frozen_clock.set(local(LUXEMBOURG, 2026, 6, 15, 18, 0))  # refunded after the happy hour
    half = client.post("/api/v1/orders/R-1/refunds", headers=headers, json={"amount": "5.00"})
    assert half.status_code in (200, 201), half.json
    assert db.session.get(LoyaltyCard, card.id).points_balance == 100
    rest = client.post("/api/v1/orders/R-1/refunds", headers=headers, json={"amount": "5.00"})
    assert rest.status_code in (200, 201), rest.json
    db.session.expire_all()
    assert db.session.get(LoyaltyCard, card.id).points_balance == 0
    assert ledger_drift() == []


def _sync(team, card, at, **fields):
    action = offline.KeptAction(key=uuid.uuid4().hex, card=card.card_number, at=at, **fields)
    owner = team.owner
    result = offline.sync_batch(team.merchant, team.stores[0].id, [action], user_id=owner.id,
                                actor=Actor(user_id=owner.id, merchant_id=team.merchant.id))
    (outcome,) = result.outcomes
    assert outcome.accepted, outcome
    return outcome.result.transaction


def test_offline_actions_are_judged_at_the_counters_time_not_their_arrival(
        bakery, card, frozen_clock):
    schedule(bakery)
    frozen_clock.set(local(LUXEMBOURG, 2026, 6, 15, 17, 30))  # arrives after the happy hour
    row = _sync(bakery, card, local(LUXEMBOURG, 2026, 6, 15, 16, 0), kind="earn",
                amount_cents=500)
    assert (row.points_delta, row.base_delta, row.offline) == (100, 50, True)
    frozen_clock.set(local(LUXEMBOURG, 2026, 6, 16, 15, 0))  # arrives during the next one
    row = _sync(bakery, card, local(LUXEMBOURG, 2026, 6, 16, 13, 30), kind="earn",
                amount_cents=500)
    assert (row.points_delta, row.base_delta) == (50, None)


def test_offline_stamps_get_the_extra_stamp_of_their_time(coffee, frozen_clock):
    card = factories.card(coffee.merchant)
    schedule(coffee, "stamps", extra=1)
    frozen_clock.set(local(LUXEMBOURG, 2026, 6, 15, 18, 0))
    row = _sync(coffee, card, local(LUXEMBOURG, 2026, 6, 15, 16, 45), kind="stamp")
    assert (row.stamps_delta, row.base_delta) == (2, 1)


def test_the_panel_shows_only_the_kinds_the_program_uses(coffee, terminal, frozen_clock):
    card = factories.card(coffee.merchant)
    schedule(coffee, "points", factor=2)  # a stamp card: points are not given at all
    frozen_clock.set(local(LUXEMBOURG, 2026, 6, 15, 15, 0))
    terminal.sign_in(coffee.staff)
    assert 'data-testid="happy-hour"' not in terminal.find(card.card_number).text


def test_the_counter_sees_a_change_at_once_though_it_keeps_the_merchants_rows(
        bakery, card, terminal, frozen_clock):
    gare, other = bakery.stores
    frozen_clock.set(local(LUXEMBOURG, 2026, 6, 15, 15, 0))
    terminal.sign_in(bakery.staff)
    assert 'data-testid="happy-hour"' not in terminal.find(card.card_number).text  # kept now
    hour = schedule(bakery, stores=[gare])
    assert "Double points until 17:00" in terminal.find(card.card_number).text
    values = dict(name=hour.name, kind="points", factor=3, weekdays=[0],
                  start_time=hour.start_time, end_time=hour.end_time, starts_on=hour.starts_on,
                  all_stores=False, store_ids=[gare.id])
    happy_hours.update_happy_hour(hour, **values)
    assert "Triple points until 17:00" in terminal.find(card.card_number).text
    happy_hours.update_happy_hour(hour, **{**values, "store_ids": [other.id]})  # stores only
    assert 'data-testid="happy-hour"' not in terminal.find(card.card_number).text


def test_the_tablets_points_cap_counts_the_doubled_points(bakery, card, frozen_clock):
    schedule(bakery)  # the program keeps at most 500 points offline
    frozen_clock.set(local(LUXEMBOURG, 2026, 6, 15, 18, 0))
    before = offline.KeptAction(key=uuid.uuid4().hex, card=card.card_number, kind="earn",
                                at=local(LUXEMBOURG, 2026, 6, 15, 13, 0), amount_cents=1000)
    # 250 points, 350 in all: under the cap, but doubled they make 600.
    during = offline.KeptAction(key=uuid.uuid4().hex, card=card.card_number, kind="earn",
                                at=local(LUXEMBOURG, 2026, 6, 15, 15, 0), amount_cents=2500)
    owner = bakery.owner
    result = offline.sync_batch(bakery.merchant, bakery.stores[0].id, [before, during],
                                user_id=owner.id,
                                actor=Actor(user_id=owner.id, merchant_id=bakery.merchant.id))
    first, second = result.outcomes
    assert first.accepted and first.result.transaction.points_delta == 100
    assert not second.accepted and "more than 500 points" in str(second.refusal)
