"""Retention figures kept per merchant, scope and local day: computed once a day, read many
times (``services/merchant/retention_snapshots.py``).

The figures are those "up to the end of the day before ``day``" on the merchant's clock: the
ledger is append-only and a row's day is when it arrived, so they never change once computed.
``data`` holds the figures and the regulars' card ids, never a name: names and card numbers
are read live when shown, so an erased customer is never shown from here.
"""
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.extensions import db
from loyalty.models.base import UTCDateTime


class RetentionSnapshot(db.Model):
    __tablename__ = "retention_snapshots"
    __table_args__ = (
        UniqueConstraint("merchant_id", "scope", "day", "timezone", "min_visits", "away_days",
                         name="uq_retention_snapshots_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), nullable=False)
    #: ``"all"`` (the owner's), or a manager's store ids sorted and joined: ``"3,7"``.
    scope: Mapped[str] = mapped_column(String(400), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    min_visits: Mapped[int] = mapped_column(Integer, nullable=False)
    away_days: Mapped[int] = mapped_column(Integer, nullable=False)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    data: Mapped[dict] = mapped_column(JSON, nullable=False)
