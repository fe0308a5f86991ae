"""Orders a till or a web shop credited through the API: one per order reference per merchant."""
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.extensions import db
from loyalty.models.base import UTCDateTime


class ApiOrder(db.Model):
    """An order reference that earned, and the first answer to it.

    The unique (merchant, reference) index makes "one order earns once, ever" hold across
    cards and programs (a stamp-only visit too, which has no ``points_earned`` row); the
    answer kept here is what the same reference gets back. Refunds are ledger rows (voids of
    the order's earning rows carrying the refunded amount), so what was refunded is summed
    from the ledger, never kept twice. Written in the earning's own transaction."""

    __tablename__ = "api_orders"
    __table_args__ = (
        Index("uq_api_orders_merchant_reference", "merchant_id", "order_reference", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), nullable=False)
    card_id: Mapped[int] = mapped_column(ForeignKey("loyalty_cards.id"), index=True,
                                         nullable=False)
    order_reference: Mapped[str] = mapped_column(String(64), nullable=False)
    amount_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), nullable=False)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    #: The rows the order wrote: its points, and its stamps (a visit, or a hybrid's count).
    points_transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("loyalty_transactions.id"))
    stamps_transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("loyalty_transactions.id"))
    #: True when the stamp stands for the visit (a stamp-only program): only a full refund
    #: takes it back. A hybrid's stamps are items, taken back in proportion like points.
    visit_stamp: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    #: The first answer (JSON), given again to the same reference.
    response_body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
