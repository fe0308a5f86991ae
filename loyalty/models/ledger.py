"""The append-only ledger: every change to a card is one row, never updated, never deleted."""
import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty.extensions import db
from loyalty.models.base import TimestampMixin, UTCDateTime, append_only, unique_among


class TransactionType(enum.StrEnum):
    CARD_CREATED = "card_created"
    CARD_DEACTIVATED = "card_deactivated"
    CARD_REACTIVATED = "card_reactivated"
    STAMP_EARNED = "stamp_earned"
    STAMP_REDEEMED = "stamp_redeemed"
    STAMP_VOIDED = "stamp_voided"
    STAMP_ADJUSTED = "stamp_adjusted"
    WELCOME_BONUS = "welcome_bonus"
    POINTS_EARNED = "points_earned"
    POINTS_REDEEMED = "points_redeemed"
    POINTS_VOIDED = "points_voided"
    POINTS_ADJUSTED = "points_adjusted"
    POINTS_EXPIRED = "points_expired"
    #: A given reward undone: the stamps or points it used come back.
    STAMP_REWARD_VOIDED = "stamp_reward_voided"
    POINTS_REWARD_VOIDED = "points_reward_voided"
    #: The program's birthday gift (points and/or stamps), once per card per year
    #: (``services/engine/bonuses.py``).
    BIRTHDAY_BONUS = "birthday_bonus"
    #: The win-back email's bonus (``services/delivery/win_back.py``), and what of it was
    #: taken back when it lapsed unused (``related_transaction_id`` names the bonus).
    WINBACK_BONUS = "winback_bonus"
    WINBACK_LAPSED = "winback_lapsed"


class LedgerImmutable(Exception):
    """Raised when code tries to change or delete a ledger row."""


class LoyaltyTransaction(TimestampMixin, db.Model):
    __tablename__ = "loyalty_transactions"
    __table_args__ = (
        # Idempotent earning: one points_earned row per order reference per merchant.
        unique_among(
            "uq_loyalty_transactions_order_reference", "merchant_id", "order_reference",
            where="transaction_type = 'points_earned' AND order_reference IS NOT NULL",
        ),
        # A retried terminal action replays the first answer.
        unique_among(
            "uq_loyalty_transactions_idempotency_key", "merchant_id", "idempotency_key",
            where="idempotency_key IS NOT NULL",
        ),
        Index("ix_loyalty_transactions_card_time", "card_id", "transaction_at"),
        Index("ix_loyalty_transactions_merchant_time", "merchant_id", "transaction_at"),
        # The statistics' all-time redemption and void counts read only those rows.
        Index("ix_loyalty_transactions_merchant_type", "merchant_id", "transaction_type"),
        # The platform dashboard reads the rows of the days not yet summed (ledger_days).
        Index("ix_loyalty_transactions_time", "transaction_at"),
        # The few rows that refer to another (voids, undone rewards), by merchant and time:
        # the statistics' daily figures join only those (migration 29a1b2c3d4ed).
        Index("ix_loyalty_transactions_refers_time", "merchant_id", "transaction_at",
              postgresql_where=text("related_transaction_id IS NOT NULL"),
              sqlite_where=text("related_transaction_id IS NOT NULL")),
        # The fraud rules count a staff member's rows in an hour, a day, a week.
        Index("ix_loyalty_transactions_staff_time", "staff_pin_id", "transaction_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), nullable=False)
    card_id: Mapped[int] = mapped_column(ForeignKey("loyalty_cards.id"), nullable=False)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)
    staff_pin_id: Mapped[int | None] = mapped_column(ForeignKey("staff_pins.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The API key that wrote the row (a till or a web shop): its name is the actor.
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    transaction_type: Mapped[TransactionType] = mapped_column(
        Enum(TransactionType, native_enum=False, length=20,
             values_callable=lambda e: [m.value for m in e]),
        nullable=False,
    )
    stamps_delta: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    points_delta: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    stamps_balance_after: Mapped[int] = mapped_column(Integer, nullable=False)
    points_balance_after: Mapped[int] = mapped_column(Integer, nullable=False)
    related_transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("loyalty_transactions.id"), index=True
    )
    #: On a void: what it should have taken back but could not, because the balance was short.
    void_shortfall: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    purchase_amount_cents: Mapped[int | None] = mapped_column(Integer)
    order_reference: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("rewards.id"))
    reward_description: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    transaction_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: Recorded by a tablet without connection and sent later (``services/engine/offline.py``):
    #: ``counter_at`` is when it happened at the counter, ``transaction_at`` when it arrived.
    offline: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(),
                                          nullable=False)
    counter_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A happy hour applied (``models/happy_hours.py``): what the action gave without it
    #: (``points_delta`` = base x factor; ``stamps_delta`` = base + extra stamps), and which.
    base_delta: Mapped[int | None] = mapped_column(Integer)
    happy_hour_id: Mapped[int | None] = mapped_column(ForeignKey("happy_hours.id"))

    card: Mapped["LoyaltyCard"] = relationship()  # noqa: F821
    store: Mapped["Store | None"] = relationship()  # noqa: F821
    staff_pin: Mapped["StaffPin | None"] = relationship()  # noqa: F821
    api_key: Mapped["ApiKey | None"] = relationship()  # noqa: F821

    def __repr__(self):
        return f"<LoyaltyTransaction {self.id} {self.transaction_type} {self.stamps_delta}/{self.points_delta}>"


append_only(LoyaltyTransaction, LedgerImmutable,
            "ledger rows are append-only: write a new transaction instead")
# The database refuses too, whatever the client: the "loyalty engine" migration installs
# BEFORE UPDATE / BEFORE DELETE triggers on loyalty_transactions (PostgreSQL and SQLite). The
# one update they let through blanks a row's note and changes nothing else (a customer's
# erasure, services/customers/my_data.py; the "erasure blanks staff texts" migration).
