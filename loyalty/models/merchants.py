"""The tenant (merchant), its locations (stores) and its customers."""
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from loyalty.contacts import fold
from loyalty.extensions import db
from loyalty.models.base import (
    SoftDeleteMixin,
    TimestampMixin,
    UTCDateTime,
    unique_among,
)


class Merchant(SoftDeleteMixin, TimestampMixin, db.Model):
    __tablename__ = "merchants"
    __soft_delete_cascade__ = (
        ("Store", "merchant_id"),
        ("Membership", "merchant_id"),
        ("Customer", "merchant_id"),
        ("LoyaltyProgram", "merchant_id"),
        ("LoyaltyCard", "merchant_id"),
    )
    __table_args__ = (
        unique_among("uq_merchants_slug_live", "slug"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    slug: Mapped[str] = mapped_column(String(64), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Luxembourg", nullable=False)
    currency: Mapped[str] = mapped_column(String(3), default="EUR", nullable=False)
    default_locale: Mapped[str] = mapped_column(String(5), default="en", nullable=False)
    #: ISO country code: the default prefix of phone numbers typed without one.
    country: Mapped[str] = mapped_column(String(2), default="LU", server_default="LU",
                                         nullable=False)
    #: Bumped in the same transaction as any change to the merchant's program, rewards or
    #: loyalty settings: workers keep copies of those while it is unchanged (merchant_cache).
    cache_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0",
                                               nullable=False)

    stores: Mapped[list["Store"]] = relationship(back_populates="merchant", order_by="Store.name")

    def __repr__(self):
        return f"<Merchant {self.id} {self.slug}>"


class Store(SoftDeleteMixin, TimestampMixin, db.Model):
    __tablename__ = "stores"
    __soft_delete_cascade__ = (("Membership", "store_id"),)
    __table_args__ = (
        unique_among("uq_stores_merchant_code_live", "merchant_id", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id"), index=True, nullable=False
    )
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    address: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    #: What customers should know: opening hours, "closed on Mondays" ...
    opening_note: Mapped[str | None] = mapped_column(String(300))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    merchant: Mapped[Merchant] = relationship(back_populates="stores")

    def __repr__(self):
        return f"<Store {self.id} {self.code}>"


class Customer(SoftDeleteMixin, TimestampMixin, db.Model):
    __tablename__ = "customers"
    __soft_delete_cascade__ = (("LoyaltyCard", "customer_id"),)
    __table_args__ = (
        unique_among("uq_customers_merchant_email_live", "merchant_id", "email",
                     where="deleted_at IS NULL AND email IS NOT NULL"),
        Index("ix_customers_merchant_phone", "merchant_id", "phone"),
        Index("ix_customers_merchant_name", "merchant_id", "name", "id"),
        Index("ix_customers_merchant_search_name", "merchant_id", "search_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id"), index=True, nullable=False
    )
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    #: The name folded for search: lower case, no accents ("chloe muller" for "Chloé Muller").
    search_name: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))  # E.164
    preferred_locale: Mapped[str | None] = mapped_column(String(5))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Which terms the customer agreed to (a digest of the terms text they were shown).
    terms_version: Mapped[str | None] = mapped_column(String(16))
    #: The birthday the customer chose to give (day and month, never the year), for the
    #: program's birthday bonus; both or neither (``services/customers/birthdays.py``).
    birth_day: Mapped[int | None] = mapped_column(Integer)
    birth_month: Mapped[int | None] = mapped_column(Integer)
    #: When the customer had their data erased (name, email and phone wiped; the card closed).
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Offers by email (``services/delivery/marketing.py``): when the customer last said yes,
    #: and when they last said no or unsubscribed; they consent while the yes is the later.
    #: Each change is also an audit entry (``customer.marketing_consent``).
    marketing_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    marketing_unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Where the last yes or no was given: "join", "card_page", "unsubscribe".
    marketing_consent_source: Mapped[str | None] = mapped_column(String(16))

    merchant: Mapped[Merchant] = relationship()

    @validates("name")
    def _fold_name(self, key, value):
        self.search_name = fold(value)[:120]
        return value

    @property
    def marketing_consent(self):
        """Whether the customer takes offers by email: a yes later than any no, not erased,
        not deleted (as ``marketing.consenting``, which also needs an email to write to)."""
        return (self.marketing_consent_at is not None and self.erased_at is None
                and self.deleted_at is None
                and (self.marketing_unsubscribed_at is None
                     or self.marketing_consent_at > self.marketing_unsubscribed_at))

    def __repr__(self):
        return f"<Customer {self.id}>"
