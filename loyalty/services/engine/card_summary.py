"""What the counter shows about a card: balances, rewards in reach, recent and voidable history."""
from collections import namedtuple
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import and_, bindparam, select, true

from loyalty.extensions import db
from loyalty.models import Customer, LoyaltyCard, LoyaltyTransaction
from loyalty.services.engine.cards import normalize_card_number
from loyalty.services.engine.ledger import claimed_by_voids
from loyalty.services.engine.localized import RewardNames, reward_names_for_rows
from loyalty.services.engine.lot_expiry import next_expiry
from loyalty.services.engine.merchant_cache import merchant_rows
from loyalty.services.engine.voids import REWARDS, VOIDABLE, split_void, void_deadline
from loyalty.services.errors import NO_CARD, CardNotFound


@dataclass
class CardSummary:
    card: object
    customer: Customer  # or a ``PanelCustomer``
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


#: The ledger columns the panel shows, in the order ``_recent_statement`` reads them.
RECENT_COLUMNS = ("id", "transaction_type", "stamps_delta", "points_delta", "transaction_at",
                  "reward_id", "reward_description", "claimed")
#: What the panel reads of a card and of its customer, when ``find_summary`` reads them.
PANEL_CARD_COLUMNS = ("id", "merchant_id", "program_id", "customer_id", "card_number",
                      "stamp_count", "points_balance", "is_active")
PanelCard = namedtuple("PanelCard", PANEL_CARD_COLUMNS)
PanelCustomer = namedtuple("PanelCustomer", ("id", "name", "preferred_locale", "erased_at"))
RecentRow = namedtuple("RecentRow", RECENT_COLUMNS)


def _recent_query():
    """The card's (``card_id``) latest ``limit`` transactions, with what later voids already
    claimed of each."""
    table = LoyaltyTransaction.__table__  # Core columns: no ORM step on the way in or out
    T, V = table.c, table.alias().c
    claimed = (
        select(claimed_by_voids(V))
        .where(V.related_transaction_id == T.id)
        .correlate(table)
        .scalar_subquery()
    )
    return (
        select(T.id, T.transaction_type, T.stamps_delta, T.points_delta, T.transaction_at,
               T.reward_id, T.reward_description, claimed.label("claimed"))
        .order_by(T.transaction_at.desc(), T.id.desc())
        .limit(bindparam("limit"))
    )


@cache
def _recent_statement():
    """The card's latest transactions (the columns the panel shows, as plain rows: the ORM's
    objects cost more than the query). Built once; the card and the limit are bound per call.
    """
    return _recent_query().where(LoyaltyTransaction.__table__.c.card_id == bindparam("card_id"))


@cache
def _panel_statement(column):
    """One statement for a scan: the merchant's live card whose ``column`` is ``value``, its
    customer, and its latest transactions, one row per transaction (one row with no
    transaction columns for a card without any). Core columns, so plain rows come back."""
    C, K = LoyaltyCard.__table__, Customer.__table__
    card = (select(*[C.c[name] for name in PANEL_CARD_COLUMNS])
            .where(C.c.merchant_id == bindparam("merchant_id"), C.c[column] == bindparam("value"),
                   C.c.deleted_at.is_(None))
            .cte("panel_card"))
    recent = (_recent_query().where(LoyaltyTransaction.__table__.c.card_id == select(card.c.id)
                                    .scalar_subquery())
              .subquery("recent"))
    return (
        select(*card.c, *[K.c[name].label(f"holder_{name}") for name in PanelCustomer._fields],
               *[recent.c[name].label(f"recent_{name}") for name in RECENT_COLUMNS])
        .select_from(card.outerjoin(K, and_(K.c.id == card.c.customer_id, K.c.deleted_at.is_(None)))
                     .outerjoin(recent, true()))
        .order_by(recent.c.transaction_at.desc(), recent.c.id.desc())
    )


def _with_voidable(rows):
    """``rows`` and, for voidable rows, what a void can still take back (or, for a reward,
    give back)."""
    voidable = {}
    for row in rows:
        if row.transaction_type in VOIDABLE:
            left = abs(row.stamps_delta + row.points_delta) - row.claimed
            if left > 0:
                voidable[row.id] = left
    return rows, voidable


def _recent_with_voidable(card, limit):
    """The card's latest transactions and what a void can still take back of each."""
    return _with_voidable(
        db.session.execute(_recent_statement(), {"card_id": card.id, "limit": limit}).all())


def find_summary(merchant_id, text, *, history=8):
    """The panel of the merchant's card scanned or typed (its number or its QR token), read
    in one statement as plain rows; raises CardNotFound."""
    text = (text or "").strip()
    number = normalize_card_number(text)
    column, value = ("card_number", number) if number else ("qr_token", text)
    rows = db.session.execute(_panel_statement(column), {
        "merchant_id": merchant_id, "value": value, "limit": history}).all()
    if not rows:
        raise CardNotFound(NO_CARD)
    first = rows[0]._mapping
    card = PanelCard(*(first[name] for name in PANEL_CARD_COLUMNS))
    customer = (PanelCustomer(*(first[f"holder_{name}"] for name in PanelCustomer._fields))
                if first["holder_id"] is not None else None)
    recent = [RecentRow(*(row._mapping[f"recent_{name}"] for name in RECENT_COLUMNS))
              for row in rows if row._mapping["recent_id"] is not None]
    return _summary(card, customer, _with_voidable(recent))


def summarize_card(card, *, history=8):
    """Everything the card panel shows."""
    return _summary(card, card.customer, _recent_with_voidable(card, history))


def _summary(card, customer, recent):
    rows = merchant_rows(card.merchant_id)
    program = rows.program
    summary = CardSummary(card=card, customer=customer, program=program)
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
    summary.recent, summary.voidable = recent
    summary.reward_names = reward_names_for_rows(summary.recent, program, known=rows.rewards)
    if summary.voidable:
        summary.void_deadline = void_deadline(rows.settings)
        summary.void_window_days = rows.settings.void_window_days
    return summary
