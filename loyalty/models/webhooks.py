"""Webhooks: the endpoints a merchant's systems listen on, and each event sent to one.

An endpoint's signing secret is kept encrypted (it must be read back to sign); it is shown to
the owner once. A delivery is one event for one endpoint: ``pending`` until the receiver
answers 2xx (``delivered``) or the retries run out (``failed``). Deliveries of one card to one
endpoint go out in ``id`` order: a later one waits while an earlier one is pending.
"""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.extensions import db
from loyalty.models.base import TimestampMixin, UTCDateTime

PENDING = "status = 'pending'"


class WebhookEndpoint(TimestampMixin, db.Model):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True,
                                             nullable=False)
    url: Mapped[str] = mapped_column(String(2000), nullable=False)
    #: Space-separated event types ("points.earned card.enrolled").
    events: Mapped[str] = mapped_column(String(300), nullable=False)
    #: The ``whsec_`` secret, encrypted with a key derived from ``SECRET_KEY``.
    secret_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    #: Its first characters, to tell secrets apart on the page.
    secret_prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Switched off (failing for days): nothing more is sent until the owner adds it again.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The first failed attempt since the last success (None while it works).
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def event_list(self):
        return self.events.split()

    @property
    def is_active(self):
        return self.disabled_at is None

    def __repr__(self):
        return f"<WebhookEndpoint {self.id} {self.url!r}>"


class WebhookDelivery(db.Model):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # A card's stream to an endpoint: the earliest pending delivery goes first.
        Index("ix_webhook_deliveries_stream", "endpoint_id", "card_id", "id",
              postgresql_where=text(PENDING), sqlite_where=text(PENDING)),
        # The sweep of retries that are due.
        Index("ix_webhook_deliveries_due", "next_attempt_at",
              postgresql_where=text(PENDING), sqlite_where=text(PENDING)),
        # An endpoint's recent deliveries (the owner's log).
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), nullable=False)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False)
    #: The card the event is about (None for a test event: it waits for nothing).
    card_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_cards.id"))
    event_type: Mapped[str] = mapped_column(String(40), nullable=False)
    #: ``webhook-id``: the same for every attempt, and for "send again", so receivers dedupe.
    message_id: Mapped[str] = mapped_column(String(40), nullable=False)
    #: ``{type, timestamp, data}`` without personal data (added when sent, unless erased).
    payload: Mapped[dict] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending",
                                        server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: A sender holds the delivery until then (a crashed sender's claim runs out).
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(300))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self):
        return f"<WebhookDelivery {self.id} {self.event_type} {self.status}>"
