"""The machine side: API keys a till or a web shop holds, and the answers kept for retries."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty.extensions import db
from loyalty.models.base import TimestampMixin, UTCDateTime


class ApiKey(TimestampMixin, db.Model):
    """A merchant's key for ``/api/v1``. Only the SHA-256 of the key is kept (the key itself
    is 256 random bits, shown once); ``prefix`` is its first characters, to tell keys apart.
    A key bound to a store credits its purchases there. Revoked keys stay for the ledger's
    sake (their name is the actor of the rows they wrote)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True,
                                             nullable=False)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    #: Space-separated scopes ("cards:read purchases").
    scopes: Mapped[str] = mapped_column(String(200), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    store: Mapped["Store | None"] = relationship()  # noqa: F821
    created_by: Mapped["User | None"] = relationship(foreign_keys=[created_by_id])  # noqa: F821

    @property
    def scope_list(self):
        return self.scopes.split()

    @property
    def is_active(self):
        return self.revoked_at is None

    def __repr__(self):
        return f"<ApiKey {self.id} {self.prefix} {self.name!r}>"


class ApiIdempotencyKey(db.Model):
    """The first answer to a POST sent with an ``Idempotency-Key``: replayed to the same key
    with the same body, refused with another body. ``status_code`` is empty while the first
    request still runs."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (
        Index("uq_api_idempotency_keys_merchant_key", "merchant_id", "key", unique=True),
        Index("ix_api_idempotency_keys_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), nullable=False)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), nullable=False)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    #: Random per claim: the ledger key of the claim's work derives from it (a key used again
    #: once expired is a new claim, never taken for the old one's retry).
    claim_token: Mapped[str] = mapped_column(String(32), nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
