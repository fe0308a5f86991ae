"""A Hypothesis state machine drives random sequences of every card action against a simple
model, and checks after every step that the database agrees with the model and the ledger."""
from datetime import UTC, datetime, timedelta
from itertools import count

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from loyalty import clock
from loyalty.extensions import db
from loyalty.models import LoyaltyCard, Role
from loyalty.services.engine import cards
from loyalty.services.engine.adjustments import adjust_points, adjust_stamps
from loyalty.services.engine.ledger import ActionContext, ledger_drift
from loyalty.services.engine.points import (
    earn_points,
    expire_points,
    redeem_reward,
)
from loyalty.services.engine.stamps import add_stamp, redeem_stamp_reward
from loyalty.services.engine.voids import void_points, void_stamps
from loyalty.services.errors import DomainError
from loyalty.services.merchant import programs
from loyalty.services.platform import accounts
from tests import factories

COOLDOWN = timedelta(minutes=10)
MAX_PER_DAY = 3
TARGET = 3
RATE = 10  # points per euro
MIN_PURCHASE = 100
EXPIRY = timedelta(days=30)
REWARDS = {"small": 30, "big": 100}
_merchants = count(1)


class CardModel:
    def __init__(self, now):
        self.stamps = 0
        self.points = 0
        self.stamp_times = {}  # stamp transaction id -> when
        self.last_activity = now
        self.earns = {}  # purchase transaction id -> points still voidable
        self.stamp_earns = {}  # stamp transaction id -> stamps still voidable


class LedgerMachine(RuleBasedStateMachine):
    cards = Bundle("cards")

    def __init__(self):
        super().__init__()
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
        clock.set_frozen(self.now)
        n = next(_merchants)
        self.merchant = accounts.create_merchant(f"Model shop {n}", f"model-shop-{n}")
        self.store_id = accounts.create_store(self.merchant, "Main", "MAIN").id
        owner = factories.user("Owner")
        accounts.add_member(owner, self.merchant, Role.MERCHANT_OWNER)
        self.owner = owner
        program = programs.create_program(
            self.merchant, "hybrid", "Model card", stamps_target=TARGET, cooldown_minutes=10,
            max_stamps_per_day=MAX_PER_DAY, points_per_euro=RATE, minimum_purchase_cents=MIN_PURCHASE,
            points_expiration_days=EXPIRY.days, require_staff_pin=False,
        )
        self.reward_ids = {name: programs.add_reward(program, name, cost).id
                           for name, cost in REWARDS.items()}
        self.context = ActionContext(store_id=self.store_id)
        self.model = {}
        self.used_orders = set()

    def teardown(self):
        clock.set_frozen(None)

    def _card(self, card_id):
        return db.session.get(LoyaltyCard, card_id)

    def _attempt(self, expected_ok, call):
        """Run the action; it must succeed exactly when the model says it should."""
        try:
            result = call()
        except DomainError as refusal:
            assert not expected_ok, f"refused unexpectedly: {refusal.message}"
            return None
        assert expected_ok, "the model expected a refusal"
        return result

    @rule(target=cards)
    def enroll(self):
        card = cards.enroll_customer(self.merchant, name="Model customer",
                                     email=f"m{id(object())}-{len(self.model)}@example.com",
                                     context=self.context)
        self.model[card.id] = CardModel(self.now)
        return card.id

    @rule(minutes=st.integers(1, 60 * 24 * 40))
    def wait(self, minutes):
        self.now += timedelta(minutes=minutes)
        clock.set_frozen(self.now)

    @rule(card_id=cards)
    def stamp(self, card_id):
        m = self.model[card_id]
        day_start = clock.local_day_start(self.now, "Europe/Luxembourg")
        # Only stamps that still stand (not voided) start a cooldown or count toward the cap.
        standing = [m.stamp_times[t] for t, left in m.stamp_earns.items() if left > 0]
        ok = (not standing or self.now >= max(standing) + COOLDOWN) and (
            sum(1 for t in standing if t >= day_start) < MAX_PER_DAY)
        result = self._attempt(ok, lambda: add_stamp(self._card(card_id), context=self.context))
        if result:
            m.stamps += 1
            m.stamp_times[result.transaction.id] = self.now
            m.last_activity = self.now
            m.stamp_earns[result.transaction.id] = 1

    @rule(card_id=cards)
    def redeem_stamps(self, card_id):
        m = self.model[card_id]
        if self._attempt(m.stamps >= TARGET,
                         lambda: redeem_stamp_reward(self._card(card_id), context=self.context)):
            m.stamps -= TARGET
            m.last_activity = self.now

    @rule(card_id=cards, amount=st.integers(-100, 5000),
          order=st.sampled_from([None, None, "A-1", "A-2", "B-7"]))
    def earn(self, card_id, amount, order):
        m = self.model[card_id]
        points = amount * RATE // 100
        ok = amount >= MIN_PURCHASE and order not in self.used_orders and points >= 1
        result = self._attempt(ok, lambda: earn_points(
            self._card(card_id), amount, context=self.context, order_reference=order))
        if result:
            m.points += points
            m.last_activity = self.now
            m.earns[result.transaction.id] = points
            if order:
                self.used_orders.add(order)

    @rule(card_id=cards, reward=st.sampled_from(sorted(REWARDS)))
    def redeem(self, card_id, reward):
        m = self.model[card_id]
        cost = REWARDS[reward]
        if self._attempt(m.points >= cost, lambda: redeem_reward(
                self._card(card_id), self.reward_ids[reward], context=self.context)):
            m.points -= cost
            m.last_activity = self.now

    @rule(card_id=cards, data=st.data())
    def void_purchase(self, card_id, data):
        m = self.model[card_id]
        if not m.earns:
            return
        original = data.draw(st.sampled_from(sorted(m.earns)))
        requested = data.draw(st.integers(1, m.earns[original] + 3))
        ok = 0 < requested <= m.earns[original]
        if self._attempt(ok, lambda: void_points(self._card(card_id), original, points=requested,
                                                 context=self.context, manages_store=True)):
            m.points -= min(requested, m.points)
            m.earns[original] -= requested
            m.last_activity = self.now  # a return counts as activity for expiry

    @rule(card_id=cards, data=st.data())
    def void_stamp(self, card_id, data):
        m = self.model[card_id]
        if not m.stamp_earns:
            return
        original = data.draw(st.sampled_from(sorted(m.stamp_earns)))
        if self._attempt(m.stamp_earns[original] > 0,
                         lambda: void_stamps(self._card(card_id), original, context=self.context, manages_store=True)):
            m.stamps -= min(1, m.stamps)
            m.stamp_earns[original] = 0
            m.last_activity = self.now

    @rule(card_id=cards, delta=st.integers(-60, 60), stamps=st.booleans())
    def adjust(self, card_id, delta, stamps):
        m = self.model[card_id]
        balance = m.stamps if stamps else m.points
        adjust = adjust_stamps if stamps else adjust_points
        if self._attempt(delta != 0 and balance + delta >= 0, lambda: adjust(
                self._card(card_id), delta, reason="model check", user=self.owner)):
            if stamps:
                m.stamps += delta
            else:
                m.points += delta

    @rule()
    def expire(self):
        expire_points()
        for m in self.model.values():
            if m.points > 0 and m.last_activity < self.now - EXPIRY:
                m.points = 0

    @invariant()
    def database_agrees_with_model_and_ledger(self):
        db.session.expire_all()
        for card_id, m in self.model.items():
            card = self._card(card_id)
            assert (card.stamp_count, card.points_balance) == (m.stamps, m.points)
        assert ledger_drift() == []


def test_random_action_sequences_keep_the_ledger_invariant(app):
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(max_examples=25, stateful_step_count=30, deadline=None,
                          suppress_health_check=list(HealthCheck)),
    )
