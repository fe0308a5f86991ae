"""API keys: created by an owner (or ``flask loyalty api-key create``), shown once, kept as a
hash, revoked at once.

A key is ``lk_live_`` (``lk_test_`` outside production) and 43 characters of 256 random bits.
Only its SHA-256 is stored: a key is random enough that a plain hash cannot be guessed back,
and one indexed lookup finds it. ``last_used_at`` is written at most every few minutes.
"""
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import selectinload

from loyalty import clock
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import ApiKey, Merchant, Store
from loyalty.services import audit
from loyalty.services.errors import InvalidInput, NotFound

#: scope -> what it lets a key do (shown on the owner's page).
SCOPES = {
    "cards:read": _l("Look up cards and their history"),
    "cards:write": _l("Enrol customers"),
    "purchases": _l("Credit purchases and stamps, and refund orders"),
    "redemptions": _l("Redeem rewards"),
}
PREFIXES = ("lk_live_", "lk_test_")
KEY_SHAPE = re.compile(r"^lk_(live|test)_[A-Za-z0-9_-]{43}$")
NAME_MAX = 80
#: ``last_used_at`` is written when it is older than this, not on every request.
LAST_USED_EVERY = timedelta(minutes=5)
KEY_NOT_FOUND = _l("This API key does not exist any more.")


@dataclass(frozen=True)
class Caller:
    """Who calls the API: the key's id, merchant, store, scopes and name (the ledger's actor)."""

    key_id: int
    merchant_id: int
    store_id: int | None
    scopes: frozenset
    name: str
    #: The merchant's cache version (``engine.merchant_cache``) when the call began.
    merchant_version: int = 0
    #: The merchant's currency (ISO 4217): amounts are in it.
    currency: str = "EUR"


def _hash(key):
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key():
    production = current_app.config["ENV_NAME"] == "production"
    return (PREFIXES[0] if production else PREFIXES[1]) + secrets.token_urlsafe(32)


def _clean(merchant_id, name, store_id, scopes):
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(_l("Give the key a name, such as the till it is for."))
    if len(name) > NAME_MAX:
        raise InvalidInput(_l("The name is too long (80 characters at most)."))
    scopes = sorted(set(scopes or ()))
    if not scopes:
        raise InvalidInput(_l("Pick at least one thing the key may do."))
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise InvalidInput(_l("Unknown scope: %(scope)s.", scope=unknown[0]))
    if store_id is not None and db.session.scalar(select(Store.id).where(
            Store.id == store_id, Store.merchant_id == merchant_id)) is None:
        raise NotFound(_l("This store does not exist any more."))
    return name, scopes


def create_key(merchant_id, *, name, scopes, store_id=None, actor=None):
    """A new key: returns (ApiKey, the key in clear, to be shown once)."""
    name, scopes = _clean(merchant_id, name, store_id, scopes)
    key = _new_key()
    with write_transaction():
        row = ApiKey(merchant_id=merchant_id, store_id=store_id, name=name,
                     prefix=key[:12], key_hash=_hash(key), scopes=" ".join(scopes),
                     created_by_id=actor.user_id if actor else None, created_at=clock.now())
        db.session.add(row)
        db.session.flush()
        audit.record(actor, "api_key.create", row, merchant_id=merchant_id, label=name,
                     changes={"scopes": (None, " ".join(scopes)), "store_id": (None, store_id)})
    return row, key


def revoke_key(merchant_id, key_id, *, actor=None):
    """Revoke at once: the next request with it is refused. Revoking twice changes nothing."""
    with write_transaction():
        row = db.session.scalar(select(ApiKey).where(
            ApiKey.id == key_id, ApiKey.merchant_id == merchant_id).with_for_update())
        if row is None:
            raise NotFound(KEY_NOT_FOUND)
        if row.revoked_at is None:
            row.revoked_at = clock.now()
            row.revoked_by_id = actor.user_id if actor else None
            audit.record(actor, "api_key.revoke", row, merchant_id=merchant_id, label=row.name)
    return row


def keys_of(merchant_id):
    """The merchant's keys, live ones first, newest first (with their store and creator)."""
    return db.session.scalars(
        select(ApiKey).where(ApiKey.merchant_id == merchant_id)
        .options(selectinload(ApiKey.store), selectinload(ApiKey.created_by))
        .order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(), ApiKey.id.desc())
    ).all()


@cache
def _key_statement():
    """A live key of a live merchant, by its hash: built once (every API call runs it)."""
    return (select(ApiKey.id, ApiKey.merchant_id, ApiKey.store_id, ApiKey.scopes, ApiKey.name,
                   ApiKey.last_used_at, Merchant.cache_version, Merchant.currency)
            .join(Merchant, Merchant.id == ApiKey.merchant_id)
            .where(ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None),
                   Merchant.deleted_at.is_(None)))


def authenticate(key):
    """The ``Caller`` holding this live key, or None (unknown, malformed or revoked)."""
    if not key or not KEY_SHAPE.match(key):
        return None
    row = db.session.execute(_key_statement(), {"key_hash": _hash(key)}).one_or_none()
    if row is None:
        return None
    now = clock.now()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        _touch(row.id, now)
    return Caller(row.id, row.merchant_id, row.store_id, frozenset(row.scopes.split()), row.name,
                  row.cache_version, row.currency)


def _touch(key_id, now):
    with write_transaction():
        db.session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now)
                           .execution_options(synchronize_session=False))
