"""``Idempotency-Key``: a POST sent again with the same key gets the first answer back.

The first request with a key claims it (a row committed before the work starts); its answer
is stored when it is done. The same key again: with the same request (method, path, body),
the stored status and body come back; with another body, a 422; while the first still runs,
a 409. A claim whose request died (no answer after ``ABANDONED_AFTER``) may be taken over:
the work itself is idempotent underneath (the ledger row carries a key derived from this
one), so the retry replays rather than credits twice. Keys are kept ``KEEP_FOR`` (24 hours
at least), then purged by the schedule; an expired key is free again.
"""
import hashlib
import json
import secrets
from dataclasses import dataclass
from functools import cache
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from loyalty import clock
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import ApiIdempotencyKey
from loyalty.services.errors import Conflict, InvalidInput

KEY_MAX = 255
KEEP_FOR = timedelta(hours=48)
ABANDONED_AFTER = timedelta(seconds=60)
STILL_RUNNING = _l("A request with this Idempotency-Key is still running. Wait for its answer, "
                   "then send it again if you need to.")
OTHER_BODY = _l("This Idempotency-Key was already used for another request. Use a new key "
                "for a new request.")


@dataclass(frozen=True)
class Stored:
    """The first answer to a key: replay it."""

    status: int
    body: str


@dataclass(frozen=True)
class Claimed:
    """The key is this request's: ``id`` names the claim's row, ``token`` the claim (a key
    used again once its answer expired is a new claim, with a new ledger key)."""

    id: int
    token: str


def request_hash(method, path, body):
    """The fingerprint of a request: method, path and its JSON body in canonical form."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def ledger_key(merchant_id, claim):
    """The ledger row's idempotency key for the work of ``claim`` (64 characters at most,
    never the same as a counter form's key). A retry under the same claim (a takeover of an
    abandoned one included) replays the ledger row; a new claim of an expired key acts anew."""
    return "api-" + hashlib.sha256(f"{merchant_id}:{claim.token}".encode()).hexdigest()[:56]


def check_key(key):
    if not key or len(key) > KEY_MAX or not key.isprintable():
        raise InvalidInput(_l("The Idempotency-Key header must be 1 to 255 printable characters."))


@cache
def _insert_statement():
    """The claim's INSERT, built once (every POST with a key runs it)."""
    table = ApiIdempotencyKey.__table__
    return insert(table).values(
        {name: bindparam(name) for name in ("merchant_id", "api_key_id", "key", "request_hash",
                                            "claim_token", "created_at")}
    ).returning(table.c.id)


def _insert(merchant_id, api_key_id, key, fingerprint, now):
    token = secrets.token_hex(16)
    return Claimed(db.session.execute(_insert_statement(), {
        "merchant_id": merchant_id, "api_key_id": api_key_id, "key": key,
        "request_hash": fingerprint, "claim_token": token, "created_at": now}).scalar_one(),
        token)


def claim(merchant_id, api_key_id, key, fingerprint):
    """Claim ``key`` for this request: ``Claimed`` (go ahead, then ``store`` the answer), or
    the ``Stored`` first answer. Raises Conflict (still running) or InvalidInput (another
    body). The first claim of a key is one INSERT."""
    check_key(key)
    now = clock.now()
    try:
        with write_transaction():
            return _insert(merchant_id, api_key_id, key, fingerprint, now)
    except IntegrityError:
        pass
    with write_transaction():
        row = db.session.scalar(select(ApiIdempotencyKey).where(
            ApiIdempotencyKey.merchant_id == merchant_id, ApiIdempotencyKey.key == key)
            .with_for_update())
        if row is not None and now - row.created_at >= KEEP_FOR:
            db.session.delete(row)  # expired: the key is free, for a new claim
            db.session.flush()
            row = None
        if row is None:  # expired, or purged between the two statements: ours now
            return _insert(merchant_id, api_key_id, key, fingerprint, now)
        if row.request_hash != fingerprint:
            raise InvalidInput(OTHER_BODY)
        if row.status_code is None:
            if now - row.created_at < ABANDONED_AFTER:
                raise Conflict(STILL_RUNNING)
            # The first request died without an answer: this retry takes its claim over,
            # and with it its ledger key (what the first one wrote is replayed, not redone).
            row.created_at, row.api_key_id = now, api_key_id
            return Claimed(row.id, row.claim_token)
        return Stored(row.status_code, row.response_body)


def keep(claimed, status, body):
    """Inside the work's own transaction: keep its answer with it (one UPDATE, no commit of
    its own). A purchase or a refund builds its answer under the card's lock and keeps it so:
    the answer and the work commit together."""
    table = ApiIdempotencyKey.__table__
    db.session.execute(update(table).where(table.c.id == claimed.id).values(
        status_code=status, response_body=body, completed_at=clock.now()))


def store(claimed, status, body):
    """Keep the answer to a claim once the work is over (a refusal, a read, a replay). A
    server error frees the key instead (the retry should run again, not be told the same
    failure)."""
    with write_transaction():
        if status >= 500:
            table = ApiIdempotencyKey.__table__
            db.session.execute(delete(table).where(table.c.id == claimed.id))
            return
        keep(claimed, status, body)


def purge(now=None):
    """Forget the keys older than ``KEEP_FOR``; returns how many."""
    cutoff = (now or clock.now()) - KEEP_FOR
    with write_transaction():
        return db.session.execute(delete(ApiIdempotencyKey).where(
            ApiIdempotencyKey.created_at < cutoff)).rowcount
