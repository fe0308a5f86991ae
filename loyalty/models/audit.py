"""The audit trail: who changed what, from where, with the old and new values. Append-only."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty.extensions import db
from loyalty.models.base import UTCDateTime, append_only, utcnow


class AuditImmutable(Exception):
    """Raised when code tries to change or delete an audit row."""


class AuditEntry(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_merchant_time", "merchant_id", "created_at"),
        Index("ix_audit_log_actor_time", "actor_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None for platform-wide actions (an admin's change to no merchant in particular).
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: "<area>.<verb>", e.g. "program.update", "store.create", "card.adjust".
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    target_type: Mapped[str] = mapped_column(String(40), nullable=False)
    target_id: Mapped[int | None] = mapped_column(Integer)
    #: A short human label of the target at the time (a store's name, a card's number).
    target_label: Mapped[str | None] = mapped_column(String(200))
    #: {field: [old, new]} for the fields the change touched.
    changes: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    actor: Mapped["User | None"] = relationship()  # noqa: F821

    def __repr__(self):
        return f"<AuditEntry {self.id} {self.action} {self.target_type}:{self.target_id}>"


append_only(AuditEntry, AuditImmutable, "the audit trail is append-only")
# The database refuses too: the "audit trail" migration installs BEFORE UPDATE / BEFORE DELETE
# triggers on audit_log (PostgreSQL and SQLite). The one update they let through removes a
# label or blanks whole pairs of values (a customer's erasure, ``audit.blank_words_about``).
