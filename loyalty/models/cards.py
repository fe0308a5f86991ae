"""A customer's loyalty card at one merchant: balances kept equal to the ledger's sums."""
import secrets
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty.extensions import db
from loyalty.models.base import (
    EXPRESSION_INDEX,
    SoftDeleteMixin,
    TimestampMixin,
    UTCDateTime,
    unique_among,
)

#: (card attribute, ledger types whose deltas it sums, which delta, sign) - one definition
#: used by the services that update counters and by the ledger check that verifies them.
LIFETIME_COUNTERS = {
    "stamps_earned_total": (("stamp_earned", "birthday_bonus"), "stamps_delta", 1),
    "points_earned_total": (("points_earned", "welcome_bonus", "birthday_bonus"), "points_delta",
                            1),
    # net of undone rewards: an undo's positive delta takes its cost back off the total
    "points_redeemed_total": (("points_redeemed", "points_reward_voided"), "points_delta", -1),
    "points_voided_total": (("points_voided",), "points_delta", -1),
    "points_expired_total": (("points_expired",), "points_delta", -1),
}
#: Rewards redeemed counts redemption rows, stamp rewards and catalogue rewards alike, less
#: the rewards undone.
REWARD_REDEMPTION_TYPES = ("stamp_redeemed", "points_redeemed")
REWARD_UNDO_TYPES = ("stamp_reward_voided", "points_reward_voided")


def new_page_secret():
    return secrets.token_urlsafe(32)


class LoyaltyCard(SoftDeleteMixin, TimestampMixin, db.Model):
    __tablename__ = "loyalty_cards"
    __table_args__ = (
        unique_among("uq_loyalty_cards_merchant_customer_live", "merchant_id", "customer_id"),
        CheckConstraint("stamp_count >= 0", name="stamp_count_not_negative"),
        CheckConstraint("points_balance >= 0", name="points_balance_not_negative"),
        # The owner's card list: one page in index order, whatever the number of cards.
        Index("ix_loyalty_cards_merchant_activity", "merchant_id",
              text("last_activity_at DESC NULLS LAST"), text("id DESC"), info=EXPRESSION_INDEX),
        Index("ix_loyalty_cards_merchant_points", "merchant_id", text("points_balance DESC"),
              text("id DESC"), info=EXPRESSION_INDEX),
        Index("ix_loyalty_cards_merchant_stamps", "merchant_id", text("stamp_count DESC"),
              text("id DESC"), info=EXPRESSION_INDEX),
        # Points expiry: a program's cards that still hold points, oldest activity first (a
        # card leaves it when its points expire, so a second run finds nothing at once).
        Index("ix_loyalty_cards_expiry_due", "program_id", "last_activity_at",
              postgresql_where=text("points_balance > 0"),
              sqlite_where=text("points_balance > 0")),
        # The admin dashboard and programs list sum these per program: an index-only scan
        # (migration 29a1b2c3d4ed; PostgreSQL includes the figures, SQLite has the program).
        Index("ix_loyalty_cards_program_figures", "program_id",
              postgresql_include=["is_active", "created_at", "last_activity_at",
                                  "points_balance", "stamp_count", "points_earned_total",
                                  "points_voided_total", "points_redeemed_total"],
              postgresql_where=text("deleted_at IS NULL"), sqlite_where=text("deleted_at IS NULL")),
        # The win-back lapse step: the few cards with an open win-back bonus, by program.
        Index("ix_loyalty_cards_winback_bonus_until", "program_id", "winback_bonus_until",
              postgresql_where=text("winback_bonus_until IS NOT NULL"),
              sqlite_where=text("winback_bonus_until IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True, nullable=False)
    program_id: Mapped[int] = mapped_column(
        ForeignKey("loyalty_programs.id"), index=True, nullable=False
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True, nullable=False)
    card_number: Mapped[str] = mapped_column(String(14), unique=True, nullable=False)
    qr_token: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    #: The secret in the customer's own card link (``/card/<secret>``); unlike the QR code
    #: staff scan at the counter, only the customer has it.
    page_secret: Mapped[str] = mapped_column(String(64), unique=True, index=True, nullable=False,
                                             default=new_page_secret)

    stamp_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    points_balance: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    stamps_earned_total: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    rewards_redeemed_total: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    points_earned_total: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    points_redeemed_total: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    points_voided_total: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    points_expired_total: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    #: When the last stamp that still stands was given (a void of it moves this back): the
    #: cooldown runs from here.
    last_stamp_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Stamps that still stand from the merchant's local day ``stamps_day`` (the daily cap),
    #: kept on the card so a stamp needs no count over the ledger.
    stamps_today: Mapped[int] = mapped_column(Integer, default=0, server_default="0",
                                              nullable=False)
    stamps_day: Mapped[date | None] = mapped_column(Date)
    last_points_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_redemption_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: The ``last_activity_at`` the customer was last warned about (points about to expire):
    #: one warning per period of inactivity.
    expiry_warned_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The ``last_activity_at`` the win-back email was last sent for: one per period of
    #: inactivity (``services/delivery/win_back.py``).
    winback_sent_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the open win-back bonus lapses (taken back, if the card had no visit since it
    #: was given); None when there is none.
    winback_bonus_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enrolled_at_store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    #: When this card last got its birthday bonus (``services/engine/bonuses.py``): the next
    #: one only ``MIN_DAYS_BETWEEN`` days later; points expiry leaves the card alone for
    #: ``GIFT_KEPT_DAYS`` after it.
    birthday_granted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    #: When what a wallet pass shows of the card last changed (any ledger row, the customer's
    #: erasure): ``Last-Modified`` of the Apple pass and the PassKit update tag.
    pass_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The ``pass_updated_at`` the wallets were last brought up to (the hourly sync sends
    #: again what is behind).
    pass_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When Google was last asked to notify the customer of a change (the last 3, ISO times):
    #: at most 3 notifying updates per pass per 24 hours.
    google_notified: Mapped[list] = mapped_column(JSON, default=list, server_default="[]",
                                                  nullable=False)
    apple_serial_number: Mapped[str | None] = mapped_column(String(64), unique=True)
    apple_auth_token: Mapped[str | None] = mapped_column(String(64))
    google_object_id: Mapped[str | None] = mapped_column(String(200), unique=True)

    customer: Mapped["Customer"] = relationship()  # noqa: F821
    program: Mapped["LoyaltyProgram"] = relationship()  # noqa: F821

    def __repr__(self):
        return f"<LoyaltyCard {self.id} {self.card_number}>"


class AppleRegistration(TimestampMixin, db.Model):
    """A device (``deviceLibraryIdentifier``) that added a card's pass and receives its pushes;
    a device may hold many passes, a pass many devices."""

    __tablename__ = "apple_registrations"
    __table_args__ = (
        Index("uq_apple_registrations_device_card", "device_library_id", "card_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("loyalty_cards.id"), index=True,
                                         nullable=False)
    device_library_id: Mapped[str] = mapped_column(String(64), nullable=False)
    push_token: Mapped[str] = mapped_column(String(200), nullable=False)


class CardHandoff(db.Model):
    """A short-lived link, shown as a QR code at the counter, that opens a card's own page on
    the customer's phone once. Only the token's SHA-256 is stored; it works once, until
    ``expires_at``."""

    __tablename__ = "card_handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("loyalty_cards.id"), index=True,
                                         nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
