"""Every fraud rule, the same four ways (issue #28): at its threshold it fires once; just below
it, switched off, or with the rest of the count at another merchant, it stays quiet."""
from datetime import UTC, datetime

import pytest

from loyalty.services.engine import adjustments, points, staff_pins, stamps, voids
from loyalty.services.errors import PinLocked, WrongPin
from loyalty.services.merchant import fraud_rules
from tests import factories
from tests.unit.test_fraud_rules import NOON, alerts, by, pins, setting


def _shop(team):
    factories.hybrid_program(team.merchant, cooldown_minutes=0, max_stamps_per_day=100,
                             stamps_target=2)
    return team


def _staff_hour(team, n, clock):
    [anna] = pins(team, "Anna")
    card = factories.card(team.merchant)
    for _ in range(n):
        stamps.add_stamp(card, context=by(team, anna))


def _tablet_hour(team, n, clock):
    card = factories.card(team.merchant)
    for _ in range(n):
        stamps.add_stamp(card, context=by(team))


def _card_day(team, n, clock):
    card = factories.card(team.merchant)
    for store in range(n):
        stamps.add_stamp(card, context=by(team, store=store % 2))


def _void_share(team, voided, clock):
    """Ten actions by one staff member, ``voided`` of them voids (20 % threshold: 2 fire,
    1 is a share just below it, with actions enough)."""
    [anna] = pins(team, "Anna")
    card = factories.card(team.merchant)
    earned = [points.earn_points(card, 1000, context=by(team, anna)).transaction.id
              for _ in range(10 - voided)]
    for transaction_id in earned[:voided]:
        voids.void_points(card, transaction_id, context=by(team, anna))


def _big_adjustment(team, n, clock):
    adjustments.adjust_points(factories.card(team.merchant), n, reason="paper card",
                              user=team.owner)


def _big_stamp_adjustment(team, n, clock):
    adjustments.adjust_stamps(factories.card(team.merchant), n, reason="paper card",
                              user=team.owner)


def _off_hours(team, hour, clock):
    """A stamp at ``hour``:30 local time (Luxembourg, UTC+2 in June)."""
    clock.set(datetime(2026, 6, 15, hour - 2, 30, tzinfo=UTC))
    stamps.add_stamp(factories.card(team.merchant), context=by(team))


def _pin_burst(team, n, clock):
    [anna] = pins(team, "Anna")
    for _ in range(n):
        with pytest.raises((WrongPin, PinLocked)):
            staff_pins.verify_staff_pin(team.merchant.id, team.stores[0].id, "0000",
                                        staff_pin_id=anna.id)


def _quick_reward(team, n, clock):
    [anna] = pins(team, "Anna")
    for _ in range(n):
        card = factories.card(team.merchant)
        stamps.add_stamp(card, context=by(team, anna), quantity=2)
        stamps.redeem_stamp_reward(card, context=by(team, anna))


#: rule: (threshold, what reaches it, what falls just below it, make(team, amount, clock)).
CASES = {
    "staff_hour": (3, 3, 2, _staff_hour),
    "tablet_hour": (3, 3, 2, _tablet_hour),
    "card_day": (3, 3, 2, _card_day),
    "void_share": (20, 2, 1, _void_share),  # 2 or 1 void(s) of 10 actions: 20 % or 10 %
    "big_adjustment": (50, 50, 49, _big_adjustment),
    "big_stamp_adjustment": (3, 3, 2, _big_stamp_adjustment),
    "off_hours": (22, 22, 21, _off_hours),
    "pin_burst": (3, 3, 2, _pin_burst),
    "quick_reward": (2, 2, 1, _quick_reward),
}


def test_every_rule_is_covered():
    assert set(CASES) == set(fraud_rules.RULES)


@pytest.fixture(params=sorted(CASES))
def rule(request, frozen_clock):
    frozen_clock.set(NOON)
    return request.param


def test_at_the_threshold_it_fires_once(rule, merchant, frozen_clock):
    threshold, reach, _below, make = CASES[rule]
    setting(_shop(merchant), rule, threshold)
    make(merchant, reach, frozen_clock)
    [alert] = alerts(merchant, rule)
    assert alert.threshold == threshold


def test_just_below_the_threshold_it_is_quiet(rule, merchant, frozen_clock):
    threshold, _reach, below, make = CASES[rule]
    setting(_shop(merchant), rule, threshold)
    make(merchant, below, frozen_clock)
    assert alerts(merchant, rule) == []


def test_switched_off_it_is_quiet(rule, merchant, frozen_clock):
    threshold, reach, _below, make = CASES[rule]
    setting(_shop(merchant), rule, threshold, enabled=False)
    make(merchant, reach, frozen_clock)
    assert alerts(merchant, rule) == []


def test_another_merchants_activity_does_not_count(rule, merchant, other_merchant,
                                                   frozen_clock):
    threshold, reach, below, make = CASES[rule]
    for team in (merchant, other_merchant):
        setting(_shop(team), rule, threshold)
    make(merchant, below, frozen_clock)
    make(other_merchant, reach, frozen_clock)
    assert alerts(merchant, rule) == []
    assert len(alerts(other_merchant, rule)) == 1
