"""Staff PINs: who did it at the counter, with lockout after failed attempts."""
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty.extensions import db
from loyalty.models.base import EXPRESSION_INDEX, TimestampMixin, UTCDateTime


NAME_INDEX = "uq_staff_pins_store_name_active"


class StaffPin(TimestampMixin, db.Model):
    """A staff member's PIN at a store.

    ``pin_lookup`` is a keyed hash (HMAC with the app secret) of store + PIN, unique among
    active PINs, so an entered PIN finds its owner with one index lookup; the bcrypt
    ``pin_hash`` is then checked once. Deactivated PINs are kept for the ledger's sake.
    """

    __tablename__ = "staff_pins"
    __table_args__ = (
        Index(
            "uq_staff_pins_lookup_active", "pin_lookup", unique=True,
            postgresql_where=text("is_active"), sqlite_where=text("is_active = 1"),
        ),
        # One name per store among active PINs: two alike would look the same on the terminal.
        Index(
            NAME_INDEX, "store_id", text("lower(staff_name)"), unique=True,
            postgresql_where=text("is_active"), sqlite_where=text("is_active = 1"),
            info=EXPRESSION_INDEX,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True, nullable=False)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True, nullable=False)
    staff_name: Mapped[str] = mapped_column(String(120), nullable=False)
    pin_hash: Mapped[str] = mapped_column(String(60), nullable=False)
    pin_lookup: Mapped[str] = mapped_column(String(64), nullable=False)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    #: A manager's PIN: it may unlock a locked PIN at the terminal.
    can_unlock: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(),
                                             nullable=False)

    store: Mapped["Store"] = relationship()  # noqa: F821

    def __repr__(self):
        return f"<StaffPin {self.id} {self.staff_name}>"
