"""What the counter shows about a card: balances, rewards in reach, recent and voidable history."""
from dataclasses import dataclass, field

from sqlalchemy import func, select

from loyalty.extensions import db
from loyalty.models import Customer, LoyaltyTransaction, TransactionType
from loyalty.services.ledger import recent_transactions
from loyalty.services.programs import active_rewards, live_program

VOIDABLE_TYPES = (TransactionType.POINTS_EARNED, TransactionType.STAMP_EARNED)


@dataclass
class CardSummary:
    card: object
    customer: Customer
    program: object
    rewards: list = field(default_factory=list)
    affordable: list = field(default_factory=list)
    next_reward: object = None
    recent: list = field(default_factory=list)
    voidable: dict = field(default_factory=dict)  # transaction id -> amount still voidable

    @property
    def reward_ready(self):
        return self.program is not None and self.program.has_stamps and (
            self.card.stamp_count >= self.program.stamps_target)

    @property
    def stamps_in_grid(self):
        """Stamps shown on the grid: the current round toward the target."""
        return min(self.card.stamp_count, self.program.stamps_target) if self.program else 0


def _voidable_amounts(transactions):
    """Remaining voidable amount per earn transaction, from one grouped query."""
    earns = [t for t in transactions if t.transaction_type in VOIDABLE_TYPES]
    if not earns:
        return {}
    T = LoyaltyTransaction
    claimed = dict(db.session.execute(
        select(T.related_transaction_id,
               func.sum(-(T.stamps_delta + T.points_delta) + T.void_shortfall))
        .where(T.related_transaction_id.in_([t.id for t in earns]))
        .group_by(T.related_transaction_id)
    ).all())
    remaining = {}
    for earn in earns:
        left = earn.stamps_delta + earn.points_delta - (claimed.get(earn.id) or 0)
        if left > 0:
            remaining[earn.id] = left
    return remaining


def summarize_card(card, *, program=None, history=8):
    """Everything the card panel shows. Pass the merchant's ``program`` if already loaded."""
    program = program if program is not None else live_program(card.merchant_id)
    summary = CardSummary(card=card, customer=db.session.get(Customer, card.customer_id),
                          program=program)
    if program is not None and program.has_points:
        summary.rewards = active_rewards(program)
        summary.affordable = [
            r for r in summary.rewards
            if r.points_cost <= card.points_balance
            and card.points_balance >= program.minimum_redemption_points
        ]
        summary.next_reward = next(
            (r for r in summary.rewards if r.points_cost > card.points_balance), None)
    summary.recent = recent_transactions(card, limit=history)
    summary.voidable = _voidable_amounts(summary.recent)
    return summary
