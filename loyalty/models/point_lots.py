"""Points kept by the month they were earned, for programs whose points expire by earning
date (``LoyaltyProgram.points_expiry_rule == "earning_month"``; ``services/engine/point_lots``).

One lot per card and local month of earning (``earned_month``: the first day of that month on
the merchant's clock): every credit of the month adds to it, so a card has few lots. A lot's
points expire ``points_expiry_months`` (N) months after the month they were earned *ends*:
``expires_at`` is local midnight at the start of the month N + 1 months after
``earned_month``, stored in UTC. Points earned in January 2026 with N = 12 expire on
2027-02-01 00:00 local time.

For every card of such a program, ``sum(points_left) == points_balance``. Debits take from the
oldest lots first; a redemption's takings are kept in ``point_lot_moves`` so that undoing it
gives the points back to the very lots they came from.
"""
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.extensions import db
from loyalty.models.base import UTCDateTime


class PointLot(db.Model):
    __tablename__ = "point_lots"
    __table_args__ = (
        UniqueConstraint("card_id", "earned_month", name="uq_point_lots_card_month"),
        CheckConstraint("points_left >= 0", name="ck_point_lots_left_not_negative"),
        # the morning's scan of a merchant's due lots
        Index("ix_point_lots_due", "merchant_id", "expires_at",
              postgresql_where=text("points_left > 0"), sqlite_where=text("points_left > 0")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), nullable=False)
    card_id: Mapped[int] = mapped_column(ForeignKey("loyalty_cards.id"), index=True,
                                         nullable=False)
    earned_month: Mapped[date] = mapped_column(Date, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    points_earned: Mapped[int] = mapped_column(Integer, nullable=False)
    points_left: Mapped[int] = mapped_column(Integer, nullable=False)
    #: The ledger row that opened the lot (the first credit of its month).
    source_transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("loyalty_transactions.id"))


class PointLotMove(db.Model):
    """What a redemption took from a lot (``points`` < 0): its undo gives it back there."""

    __tablename__ = "point_lot_moves"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("point_lots.id", ondelete="CASCADE"),
                                        index=True, nullable=False)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("loyalty_transactions.id"),
                                                index=True, nullable=False)
    points: Mapped[int] = mapped_column(Integer, nullable=False)
