"""A merchant's loyalty program, its reward catalogue, and the admin-controlled settings."""
import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty.extensions import db
from loyalty.models.base import (
    SoftDeleteMixin,
    TimestampMixin,
    UTCDateTime,
    unique_among,
)


class ProgramType(enum.StrEnum):
    STAMPS = "stamps"
    POINTS = "points"
    HYBRID = "hybrid"


class LoyaltyProgram(SoftDeleteMixin, TimestampMixin, db.Model):
    """One live program per merchant, shared by all its stores."""

    __tablename__ = "loyalty_programs"
    __soft_delete_cascade__ = (("LoyaltyCard", "program_id"),)
    __table_args__ = (
        unique_among("uq_loyalty_programs_merchant_live", "merchant_id"),
        CheckConstraint("stamps_target >= 1", name="stamps_target_positive"),
        CheckConstraint("points_per_euro >= 0", name="points_per_euro_not_negative"),
        CheckConstraint("cooldown_minutes >= 0", name="cooldown_not_negative"),
        CheckConstraint("max_stamps_per_day >= 1", name="max_stamps_per_day_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True, nullable=False)
    program_type: Mapped[ProgramType] = mapped_column(
        Enum(ProgramType, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e]),
        nullable=False,
    )
    # Stamps
    stamps_target: Mapped[int] = mapped_column(Integer, default=10, nullable=False)
    stamp_reward_description: Mapped[str | None] = mapped_column(String(200))
    stamp_reward_value_cents: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # Points
    points_per_euro: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    point_value_cents: Mapped[Decimal] = mapped_column(
        Numeric(10, 4), default=Decimal("1"), nullable=False
    )
    welcome_bonus_points: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    minimum_redemption_points: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    minimum_purchase_cents: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    points_expiration_days: Mapped[int | None] = mapped_column(Integer)
    #: How points expire: ``"inactivity"`` (all of them, ``points_expiration_days`` after the
    #: last activity) or ``"earning_month"`` (each month's points ``points_expiry_months`` after
    #: the month they were earned ends: ``models/point_lots.py``).
    points_expiry_rule: Mapped[str] = mapped_column(String(20), default="inactivity",
                                                    server_default="inactivity", nullable=False)
    points_expiry_months: Mapped[int | None] = mapped_column(Integer)
    #: Customers with an email are warned this many days before their points expire (0: never).
    expiry_warning_days: Mapped[int] = mapped_column(Integer, default=14, server_default="14",
                                                     nullable=False)
    # Win-back (``services/delivery/win_back.py``): members who consented to offers by email
    # and have not come for ``winback_inactive_days`` get a "we miss you" email, once per
    # period of inactivity, with an optional bonus that lapses after ``winback_bonus_days``.
    winback_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(),
                                                  nullable=False)
    winback_inactive_days: Mapped[int] = mapped_column(Integer, default=60, server_default="60",
                                                       nullable=False)
    winback_bonus_points: Mapped[int] = mapped_column(Integer, default=0, server_default="0",
                                                      nullable=False)
    winback_bonus_stamps: Mapped[int] = mapped_column(Integer, default=0, server_default="0",
                                                      nullable=False)
    winback_bonus_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30",
                                                    nullable=False)
    #: The birthday bonus (0: none), given ``birthday_days_ahead`` days (0-30) before the
    #: customer's birthday by the merchant's morning run (``services/delivery/birthdays.py``).
    birthday_bonus_points: Mapped[int] = mapped_column(Integer, default=0, server_default="0",
                                                       nullable=False)
    birthday_bonus_stamps: Mapped[int] = mapped_column(Integer, default=0, server_default="0",
                                                       nullable=False)
    birthday_days_ahead: Mapped[int] = mapped_column(Integer, default=0, server_default="0",
                                                     nullable=False)
    # Anti-fraud
    cooldown_minutes: Mapped[int] = mapped_column(Integer, default=15, nullable=False)
    max_stamps_per_day: Mapped[int] = mapped_column(Integer, default=5, nullable=False)
    require_staff_pin: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    # The counter without connection: stamps and purchases a tablet keeps and sends later
    offline_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true(),
                                                  nullable=False)
    #: At most this many actions, and points for at most this many, wait on one tablet.
    offline_max_actions: Mapped[int] = mapped_column(Integer, default=50, server_default="50",
                                                     nullable=False)
    offline_max_points: Mapped[int] = mapped_column(Integer, default=500, server_default="500",
                                                    nullable=False)
    # Branding
    card_name: Mapped[str] = mapped_column(String(120), nullable=False)
    primary_color: Mapped[str] = mapped_column(String(7), default="#1d5c4d", nullable=False)
    secondary_color: Mapped[str] = mapped_column(String(7), default="#ffffff", nullable=False)
    logo_url: Mapped[str | None] = mapped_column(String(500))
    hero_image_url: Mapped[str | None] = mapped_column(String(500))
    terms_text: Mapped[str | None] = mapped_column(Text)
    privacy_url: Mapped[str | None] = mapped_column(String(500))
    #: The customer-facing texts in other languages than the merchant's default:
    #: ``{"fr": {"card_name": ..., "stamp_reward_description": ..., "terms_text": ...}}``
    #: (services/merchant/texts.py; a text not given falls back to the field above).
    translations: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}",
                                               nullable=False)
    # Lifecycle
    is_active: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Wallets
    apple_pass_type_id: Mapped[str | None] = mapped_column(String(120))
    google_class_id: Mapped[str | None] = mapped_column(String(200))
    #: The class's review status as Google last answered it (UNDER_REVIEW, APPROVED ...).
    google_review_status: Mapped[str | None] = mapped_column(String(20))

    rewards: Mapped[list["Reward"]] = relationship(
        back_populates="program", order_by="Reward.points_cost"
    )

    @property
    def has_stamps(self):
        return self.program_type in (ProgramType.STAMPS, ProgramType.HYBRID)

    @property
    def has_points(self):
        return self.program_type in (ProgramType.POINTS, ProgramType.HYBRID)

    def points_for(self, amount_cents):
        """Points earned for a purchase: floor(cents x points per euro / 100)."""
        return amount_cents * self.points_per_euro // 100

    def __repr__(self):
        return f"<LoyaltyProgram {self.id} {self.program_type}>"


class Reward(TimestampMixin, db.Model):
    """An entry of the points catalogue. Retired rewards are deactivated, never deleted."""

    __tablename__ = "rewards"
    __table_args__ = (CheckConstraint("points_cost >= 1", name="points_cost_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True, nullable=False)
    program_id: Mapped[int] = mapped_column(
        ForeignKey("loyalty_programs.id"), index=True, nullable=False
    )
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    points_cost: Mapped[int] = mapped_column(Integer, nullable=False)
    description: Mapped[str | None] = mapped_column(String(300))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    #: ``{"de": {"name": ..., "description": ...}}``: see LoyaltyProgram.translations.
    translations: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}",
                                               nullable=False)
    #: Order in the owner's catalogue (the terminal lists by cost).
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)

    program: Mapped[LoyaltyProgram] = relationship(back_populates="rewards")


class MerchantLoyaltySettings(TimestampMixin, db.Model):
    """Platform-admin controls per merchant; empty lockout values fall back to platform defaults."""

    __tablename__ = "merchant_loyalty_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id"), unique=True, nullable=False
    )
    allow_self_enrollment: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    pin_lockout_attempts: Mapped[int | None] = mapped_column(Integer)
    pin_lockout_minutes: Mapped[int | None] = mapped_column(Integer)
    allow_voids: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    #: Staff void rows up to this many days old; older ones need a manager or owner.
    void_window_days: Mapped[int] = mapped_column(Integer, default=14, server_default="14",
                                                  nullable=False)
    allow_cross_location_redemption: Mapped[bool] = mapped_column(
        Boolean, default=True, nullable=False
    )
