"""Happy hours: an owner's scheduled multipliers ("double points on Tuesdays 14:00-17:00 at
Gare", "+1 stamp per visit this weekend"). The engine reads them with the merchant's cached
rows (``services/engine/happy_hours.py``); the ledger row names the one that applied."""
from datetime import date, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Time,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty.extensions import db
from loyalty.models.base import SoftDeleteMixin, TimestampMixin

#: A happy hour's kinds: points multiplied by ``factor``, or ``extra_stamps`` added per visit.
HAPPY_HOUR_KINDS = ("points", "stamps")
#: Monday is bit 0 (``date.weekday()``), Sunday bit 6.
ALL_WEEKDAYS = 0b1111111

happy_hour_stores = Table(
    "happy_hour_stores",
    db.metadata,
    Column("happy_hour_id", ForeignKey("happy_hours.id"), primary_key=True),
    Column("store_id", ForeignKey("stores.id"), primary_key=True, index=True),
)


class HappyHour(SoftDeleteMixin, TimestampMixin, db.Model):
    """A window of local wall-clock time (start inclusive, end exclusive, on the same day) on
    some weekdays between two dates, at all the merchant's stores or at the listed ones."""

    __tablename__ = "happy_hours"
    __table_args__ = (
        CheckConstraint("kind IN ('points', 'stamps')", name="kind_known"),
        CheckConstraint("factor IS NULL OR (factor >= 2 AND factor <= 10)", name="factor_range"),
        CheckConstraint("extra_stamps IS NULL OR (extra_stamps >= 1 AND extra_stamps <= 10)",
                        name="extra_stamps_range"),
        CheckConstraint("weekdays >= 1 AND weekdays <= 127", name="weekdays_mask"),
        CheckConstraint("end_time > start_time", name="ends_after_start"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_on_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True,
                                             nullable=False)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    #: Points: the purchase's points times this (2 to 10).
    factor: Mapped[int | None] = mapped_column(Integer)
    #: Stamps: this many more stamps per visit (one counter action), within the daily cap.
    extra_stamps: Mapped[int | None] = mapped_column(Integer)
    #: Bit ``date.weekday()`` set for each day it runs (Monday = 1, Sunday = 64).
    weekdays: Mapped[int] = mapped_column(Integer, nullable=False, default=ALL_WEEKDAYS)
    #: On the merchant's wall clock (``merchants.timezone``).
    start_time: Mapped[time] = mapped_column(Time, nullable=False)
    end_time: Mapped[time] = mapped_column(Time, nullable=False)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    #: The last day it runs (included); None runs on until the owner ends it.
    ends_on: Mapped[date | None] = mapped_column(Date)
    all_stores: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    #: Paused by the owner (kept, not applied).
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    stores: Mapped[list["Store"]] = relationship(  # noqa: F821
        secondary=happy_hour_stores, order_by="Store.name")

    def runs_on(self, weekday):
        return bool(self.weekdays & (1 << weekday))

    def __repr__(self):
        return f"<HappyHour {self.id} {self.kind} {self.factor or self.extra_stamps}>"
