"""Fraud alerts: each merchant's alert rules, and the alerts they raised.

A rule is checked right after a counter action, through the outbox
(``services/merchant/fraud_checks.py``); it never blocks the counter. A merchant without a
``FraudRuleSetting`` row for a rule has it on, at its default threshold
(``services/merchant/fraud_rules.py``).

An alert is raised once per rule, subject and window: ``dedupe_key`` (unique per merchant)
names them, e.g. ``"staff_hour:pin:12:2026-12-07T14"``, so a second action in the same window
adds no second alert. ``card_ids`` and ``transaction_ids`` (ledger row ids) are what it is
about; ``observed`` what was counted or measured, ``threshold`` the threshold in force.
"""
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty.extensions import db
from loyalty.models.base import UTCDateTime, utcnow


class FraudRuleSetting(db.Model):
    __tablename__ = "fraud_rule_settings"
    __table_args__ = (
        UniqueConstraint("merchant_id", "rule", name="uq_fraud_rule_settings_merchant_rule"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), nullable=False)
    rule: Mapped[str] = mapped_column(String(40), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    threshold: Mapped[int] = mapped_column(Integer, nullable=False)

    def __repr__(self):
        return f"<FraudRuleSetting {self.merchant_id} {self.rule} {self.enabled} {self.threshold}>"


class FraudAlert(db.Model):
    __tablename__ = "fraud_alerts"
    __table_args__ = (
        UniqueConstraint("merchant_id", "dedupe_key", name="uq_fraud_alerts_dedupe_key"),
        Index("ix_fraud_alerts_merchant_created", "merchant_id", "created_at"),
        Index("ix_fraud_alerts_merchant_reviewed", "merchant_id", "reviewed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True,
                                             nullable=False)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    rule: Mapped[str] = mapped_column(String(40), nullable=False)
    #: Who: the staff member (PIN), the signed-in account the tablet uses, or the API key.
    staff_pin_id: Mapped[int | None] = mapped_column(ForeignKey("staff_pins.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    card_ids: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    #: Ledger row ids (``loyalty_transactions.id``).
    transaction_ids: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    observed: Mapped[int] = mapped_column(Integer, nullable=False)
    threshold: Mapped[int] = mapped_column(Integer, nullable=False)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    dedupe_key: Mapped[str] = mapped_column(String(160), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_note: Mapped[str | None] = mapped_column(Text)
    #: Set when a daily digest email included it.
    digested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    store: Mapped["Store | None"] = relationship()  # noqa: F821
    staff_pin: Mapped["StaffPin | None"] = relationship()  # noqa: F821
    user: Mapped["User | None"] = relationship(foreign_keys=[user_id])  # noqa: F821
    api_key: Mapped["ApiKey | None"] = relationship()  # noqa: F821
    reviewed_by: Mapped["User | None"] = relationship(foreign_keys=[reviewed_by_id])  # noqa: F821

    @property
    def is_reviewed(self):
        return self.reviewed_at is not None

    def __repr__(self):
        return f"<FraudAlert {self.id} {self.rule} {self.dedupe_key!r}>"
