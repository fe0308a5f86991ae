"""People who sign in (staff, owners, admins) and what they may act for."""
import enum
from datetime import datetime

import bcrypt
from flask_login import UserMixin
from sqlalchemy import Boolean, Enum, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty.extensions import db
from loyalty.models.base import (
    EXPRESSION_INDEX,
    LIVE_ROWS,
    SoftDeleteMixin,
    TimestampMixin,
    UTCDateTime,
    unique_among,
)


class Role(enum.StrEnum):
    MERCHANT_OWNER = "merchant_owner"
    STORE_MANAGER = "store_manager"
    STORE_STAFF = "store_staff"


#: bcrypt reads at most 72 bytes of a secret (and bcrypt 5 refuses longer ones).
SECRET_MAX_BYTES = 72


def hash_secret(secret, rounds=12):
    """bcrypt hash of a password or PIN, as text. Callers keep secrets within 72 bytes."""
    return bcrypt.hashpw(secret.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def check_secret(secret, hashed):
    """True if ``secret`` matches; a secret longer than bcrypt reads never does (it could not
    have been set), after a check of the same cost."""
    if not hashed:
        return False
    encoded = secret.encode("utf-8")
    if len(encoded) > SECRET_MAX_BYTES:
        bcrypt.checkpw(encoded[:SECRET_MAX_BYTES], hashed.encode("ascii"))
        return False
    return bcrypt.checkpw(encoded, hashed.encode("ascii"))


class User(UserMixin, SoftDeleteMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    __soft_delete_cascade__ = (("Membership", "user_id"),)
    __table_args__ = (
        unique_among("uq_users_email_live", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(60), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    preferred_locale: Mapped[str | None] = mapped_column(String(5))
    is_platform_admin: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="user", foreign_keys="Membership.user_id"
    )

    #: The signed-in session this object was loaded for (not stored on the user row): the
    #: cookie carries the token, so ending the session on the server ends it everywhere.
    session_token = None
    session_id = None

    def get_id(self):
        return self.session_token

    def set_password(self, password, rounds=12):
        self.password_hash = hash_secret(password, rounds)

    def check_password(self, password):
        return check_secret(password, self.password_hash)

    def __repr__(self):
        return f"<User {self.id} {self.email}>"


MEMBERSHIP_INDEX = "uq_memberships_live"


class Membership(SoftDeleteMixin, TimestampMixin, db.Model):
    """A user's role at a merchant: owners span all stores, managers and staff one store.

    An invitation is a membership that waits (``accepted_at`` empty) until its person accepts
    it; until then it gives them nothing and changes nothing for them."""

    __tablename__ = "memberships"
    __table_args__ = (
        # One live membership per person, merchant, role and store (owners have no store).
        Index(MEMBERSHIP_INDEX, "user_id", "merchant_id", "role", text("coalesce(store_id, 0)"),
              unique=True, postgresql_where=text(LIVE_ROWS), sqlite_where=text(LIVE_ROWS),
              info=EXPRESSION_INDEX),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id"), index=True, nullable=False
    )
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        nullable=False,
    )
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    merchant: Mapped["Merchant"] = relationship()  # noqa: F821
    store: Mapped["Store | None"] = relationship()  # noqa: F821

    @property
    def is_pending(self):
        return self.accepted_at is None
