"""Work a change asks for, kept with the change, and the emails it produced.

An ``outbox`` row is written in the same transaction as the change that wants the work done
(send an email, update a wallet pass). It is open until a job delivers it (``delivered_at``)
or gives up on it (``failed_at``); ``enqueued_at`` says when it was last handed to RQ.
"""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.extensions import db
from loyalty.models.base import TimestampMixin, UTCDateTime

OPEN = "delivered_at IS NULL AND failed_at IS NULL"


class OutboxMessage(TimestampMixin, db.Model):
    __tablename__ = "outbox"
    __table_args__ = (
        # The drain and the backlog read the open rows only, oldest first.
        Index("ix_outbox_open", "id", postgresql_where=text(OPEN), sqlite_where=text(OPEN)),
        # The fraud rule ``pin_burst`` counts a merchant's recent wrong PINs (``fraud_pin``).
        Index("ix_outbox_merchant_kind_created", "merchant_id", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What to do: a key of ``services.outbox.HANDLERS`` ("email", ...).
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    #: The RQ queue that runs it ("email", "wallet", "default").
    queue: Mapped[str] = mapped_column(String(20), nullable=False, default="default")
    payload: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"), index=True)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)

    @property
    def status(self):
        if self.delivered_at:
            return "delivered"
        if self.failed_at:
            return "failed"
        return "queued" if self.enqueued_at else "pending"

    def __repr__(self):
        return f"<OutboxMessage {self.id} {self.kind} {self.status}>"


class SentEmail(TimestampMixin, db.Model):
    """One email the platform sent: its delivery record, keyed by the outbox row that asked for
    it (so a job run twice sends it once). Without SMTP the message itself is kept here for
    admins to read (development); with SMTP only who, what and when."""

    __tablename__ = "sent_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), unique=True, nullable=False)
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"), index=True)
    template: Mapped[str] = mapped_column(String(40), nullable=False)
    to_address: Mapped[str] = mapped_column(String(254), nullable=False)
    locale: Mapped[str] = mapped_column(String(5), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    #: "smtp" (handed to the SMTP server) or "stored" (no SMTP configured: kept here only).
    transport: Mapped[str] = mapped_column(String(10), nullable=False)
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
