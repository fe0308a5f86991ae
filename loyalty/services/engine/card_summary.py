"""What the counter shows about a card: balances, rewards in reach, recent and voidable history."""
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased

from loyalty.extensions import db
from loyalty.models import Customer, LoyaltyTransaction
from loyalty.services.engine.ledger import claimed_by_voids
from loyalty.services.engine.localized import RewardNames, reward_names_for_rows
from loyalty.services.engine.lot_expiry import next_expiry
from loyalty.services.engine.merchant_cache import merchant_rows
from loyalty.services.engine.voids import REWARDS, VOIDABLE, split_void, void_deadline


@dataclass
class CardSummary:
    card: object
    customer: Customer
    program: object
    rewards: list = field(default_factory=list)
    affordable: list = field(default_factory=list)
    next_reward: object = None
    recent: list = field(default_factory=list)
    #: transaction id -> amount still voidable (for a reward: what undoing it gives back)
    voidable: dict = field(default_factory=dict)
    #: Rows older than this need a manager or owner to void them; the window in days.
    void_deadline: object = None
    void_window_days: int = 0
    #: The rewards' names (the catalogue's, the stamp reward's, the history's) per language.
    reward_names: RewardNames = field(default_factory=lambda: RewardNames({}))
    #: Points expiring by earning month: the lot expiring next (``lot_expiry.NextExpiry``).
    next_expiry: object = None

    @property
    def reward_ready(self):
        return self.program is not None and self.program.has_stamps and (
            self.card.stamp_count >= self.program.stamps_target)

    @staticmethod
    def is_reward(transaction):
        """A redemption, whose void is an undo."""
        return transaction.transaction_type in REWARDS

    def void_split(self, transaction):
        """What voiding all that is left of ``transaction`` now does: ``(balance, taken,
        shortfall)``, the card's balance, what comes off it, and what is recorded as a
        shortfall because it was spent since (the rule of ``voids.split_void``)."""
        remaining = self.voidable.get(transaction.id, 0)
        balance = getattr(self.card, VOIDABLE[transaction.transaction_type][1])
        if transaction.transaction_type in REWARDS:  # an undo gives back, it takes nothing
            return balance, remaining, 0
        return (balance, *split_void(remaining, balance))

    @property
    def stamps_in_grid(self):
        """Stamps shown on the grid: the current round toward the target."""
        return min(self.card.stamp_count, self.program.stamps_target) if self.program else 0


@cache
def _recent_statement():
    """The card's latest transactions (the columns the panel shows, as plain rows: the ORM's
    objects cost more than the query), each with what later voids already claimed of it.

    Built once; the card and the limit are bound per call.
    """
    T, V = LoyaltyTransaction, aliased(LoyaltyTransaction)
    claimed = (
        select(claimed_by_voids(V))
        .where(V.related_transaction_id == T.id)
        .correlate(T)
        .scalar_subquery()
    )
    return (
        select(T.id, T.transaction_type, T.stamps_delta, T.points_delta, T.transaction_at,
               T.reward_id, T.reward_description, claimed.label("claimed"))
        .where(T.card_id == bindparam("card_id"))
        .order_by(T.transaction_at.desc(), T.id.desc())
        .limit(bindparam("limit"))
    )


def _recent_with_voidable(card, limit):
    """The card's latest transactions and, for voidable rows, what a void can still take back
    (or, for a reward, give back)."""
    rows = db.session.execute(_recent_statement(), {"card_id": card.id, "limit": limit}).all()
    voidable = {}
    for row in rows:
        if row.transaction_type in VOIDABLE:
            left = abs(row.stamps_delta + row.points_delta) - row.claimed
            if left > 0:
                voidable[row.id] = left
    return rows, voidable


def summarize_card(card, *, history=8):
    """Everything the card panel shows."""
    rows = merchant_rows(card.merchant_id)
    program = rows.program
    summary = CardSummary(card=card, customer=card.customer, program=program)
    if program is not None and program.has_points:
        summary.rewards = rows.rewards
        summary.affordable = [
            r for r in summary.rewards
            if r.points_cost <= card.points_balance
            and card.points_balance >= program.minimum_redemption_points
        ]
        summary.next_reward = next(
            (r for r in summary.rewards if r.points_cost > card.points_balance), None)
        if card.points_balance > 0:
            summary.next_expiry = next_expiry(card.id, program)
    summary.recent, summary.voidable = _recent_with_voidable(card, history)
    summary.reward_names = reward_names_for_rows(summary.recent, program, known=rows.rewards)
    if summary.voidable:
        summary.void_deadline = void_deadline(rows.settings)
        summary.void_window_days = rows.settings.void_window_days
    return summary
