"""Signed-in sessions kept on the server: started at sign-in, checked on every request, ended
at sign-out.

The session cookie only carries a random token; the ``user_sessions`` row it names decides
whether the person is still signed in. So a cookie copied before sign-out is worth nothing
after it, a password change or a removed membership ends a person's other sessions, and a
session nobody used for ``SESSION_IDLE_MINUTES`` expires.
"""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import bindparam, exists, or_, select, update

from loyalty import clock
from loyalty.database import in_write_transaction, write_transaction
from loyalty.extensions import db
from loyalty.models import Membership, Merchant, Role, Store, User, UserSession

#: How often a live session's ``last_seen_at`` is written: one UPDATE per person per few
#: minutes, not one per request.
TOUCH_EVERY = timedelta(minutes=5)
#: Longer "tokens" cannot be ours: refuse them before hashing anything.
MAX_TOKEN_LENGTH = 100

SIGNED_OUT = "signed_out"
SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"
PASSWORD_CHANGED = "password_changed"
ACCESS_REMOVED = "access_removed"


def _digest(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _idle_limit():
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def start_session(user, *, ip_address=None, user_agent=None):
    """Open a session for ``user`` and return the token that goes into the cookie."""
    token = secrets.token_urlsafe(32)
    with write_transaction():
        db.session.add(UserSession(
            user_id=user.id, token_hash=_digest(token), ip_address=(ip_address or "")[:45] or None,
            user_agent=(user_agent or "")[:255] or None,
        ))
    user.session_token = token
    return token


@dataclass(frozen=True, eq=False)
class SignedInMembership:
    """A membership in force (live, accepted, of a live merchant), as a request reads it."""

    id: int
    merchant_id: int
    role: Role
    store_id: int | None
    accepted_at: datetime
    merchant: Merchant
    store: Store | None  # None for an owner, or a store since deleted


@dataclass(frozen=True, eq=False)
class SignedInUser(UserMixin):
    """Who a live session belongs to, read with their memberships in force by one statement
    on every request: plain values, not the ``users`` row (load it to change it)."""

    id: int
    email: str
    name: str
    preferred_locale: str | None
    is_platform_admin: bool
    session_token: str
    session_id: int
    memberships: tuple = ()

    def get_id(self):
        return self.session_token


_users, _sessions = User.__table__, UserSession.__table__
_memberships, _merchants, _stores = Membership.__table__, Merchant.__table__, Store.__table__
_USER_COLUMNS = (_users.c.id, _users.c.email, _users.c.name, _users.c.preferred_locale,
                 _users.c.is_platform_admin)
_MEMBERSHIP_COLUMNS = (_memberships.c.id, _memberships.c.merchant_id, _memberships.c.role,
                       _memberships.c.store_id, _memberships.c.accepted_at)


@cache
def _session_user_statement():
    """The session's user (both live), with one row per membership in force: its merchant and
    store as ORM rows, the rest as plain columns. Built once: SQLAlchemy caches its SQL."""
    in_force = _memberships.join(
        _merchants, (_merchants.c.id == _memberships.c.merchant_id)
        & _merchants.c.deleted_at.is_(None))
    return (
        select(*_USER_COLUMNS, _sessions.c.id, _sessions.c.last_seen_at, *_MEMBERSHIP_COLUMNS,
               Merchant, Store)
        .select_from(
            _sessions.join(_users, _users.c.id == _sessions.c.user_id)
            .outerjoin(in_force, (_memberships.c.user_id == _users.c.id)
                       & _memberships.c.deleted_at.is_(None)
                       & _memberships.c.accepted_at.is_not(None))
            .outerjoin(_stores, (_stores.c.id == _memberships.c.store_id)
                       & _stores.c.deleted_at.is_(None))
        )
        .where(
            _sessions.c.token_hash == bindparam("token_hash"),
            _sessions.c.ended_at.is_(None),
            _sessions.c.last_seen_at > bindparam("seen_after"),
            _users.c.deleted_at.is_(None),
        )
        .execution_options(include_deleted=True)  # the live rows are chosen above
    )


def load_session_user(token):
    """The live user whose live session ``token`` names (a ``SignedInUser``), with their
    memberships in force, merchants and stores, in one statement (this runs on every
    request); None when the session is over."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    now = clock.now()
    rows = db.session.execute(
        _session_user_statement(),
        {"token_hash": _digest(token), "seen_after": now - _idle_limit()},
    ).all()
    if not rows:
        return None
    first = rows[0]
    user_values, (session_id, last_seen_at) = first[:5], first[5:7]
    if now - last_seen_at > TOUCH_EVERY:
        with write_transaction():
            db.session.execute(
                update(UserSession).where(UserSession.id == session_id)
                .values(last_seen_at=now).execution_options(synchronize_session=False)
            )
    memberships = tuple(SignedInMembership(*row[7:]) for row in rows if row[7] is not None)
    return SignedInUser(*user_values, session_token=token, session_id=session_id,
                        memberships=memberships)


def user_id_of(token):
    """Whose session ``token`` named, live or over (None for a token that was never one)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.session.scalar(
        select(UserSession.user_id).where(UserSession.token_hash == _digest(token)))


def _end(condition, reason):
    statement = (
        update(UserSession)
        .where(UserSession.ended_at.is_(None), condition)
        .values(ended_at=clock.now(), ended_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if in_write_transaction():
        return db.session.execute(statement).rowcount
    with write_transaction():
        return db.session.execute(statement).rowcount


def end_session(session_id, reason=SIGNED_OUT):
    """End one session (sign-out)."""
    _end(UserSession.id == session_id, reason)


def end_sessions_of(user_id, reason, *, keep_session_id=None):
    """End every session of a user, except ``keep_session_id`` (the one asking). Returns how
    many ended."""
    condition = UserSession.user_id == user_id
    if keep_session_id is not None:
        condition = condition & (UserSession.id != keep_session_id)
    return _end(condition, reason)


def end_sessions_for_deletion(batch):
    """End the sessions of everyone a soft delete (``batch``) left without access: their
    account was deleted, or they lost their last membership in force (and are no platform
    admin; an invitation they have not accepted keeps nobody signed in).
    Someone who keeps a membership elsewhere stays signed in; what they lost is checked live
    on every request. Runs inside the deletion's transaction."""
    users = User.__table__
    removed = Membership.__table__.alias("removed")
    remaining = Membership.__table__.alias("remaining")
    left_without_access = (
        select(removed.c.user_id)
        .join(users, users.c.id == removed.c.user_id)
        .where(
            removed.c.deleted_batch == batch,
            users.c.is_platform_admin.is_(False),
            ~exists().where(remaining.c.user_id == removed.c.user_id,
                            remaining.c.deleted_at.is_(None),
                            remaining.c.accepted_at.is_not(None)),
        )
    )
    _end(
        or_(UserSession.user_id.in_(select(users.c.id).where(users.c.deleted_batch == batch)),
            UserSession.user_id.in_(left_without_access)),
        ACCESS_REMOVED,
    )


def live_sessions_of(user):
    """The user's sessions that are still open, most recently used first."""
    return db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None),
               UserSession.last_seen_at > clock.now() - _idle_limit())
        .order_by(UserSession.last_seen_at.desc())
    ).all()

