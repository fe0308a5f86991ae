"""A worker's copies of each merchant's slow-changing rows: the program with its active rewards,
the loyalty settings and the happy hours (and what other areas keep beside them: ``EXTRAS``).

The counter reads them on every request but owners change them rarely. Any flush that adds,
changes or deletes a program, reward or settings row bumps ``merchants.cache_version`` in the
same transaction (a set-based UPDATE of those tables, as a cascading delete or a restore runs,
bumps every merchant's); a request knows its merchant's version (it comes with the signed-in
session) and reuses the worker's copy while the version matches, so a change is seen by the
next request of every worker. Outside a request of that merchant (jobs, the CLI, tests calling services) the
rows are read from the database as before.

The copies are detached from any session: read them, never change them (the owner pages load
their own rows to edit).
"""
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app, g, has_request_context
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from loyalty import clock
from loyalty.extensions import db
from loyalty.models import HappyHour, LoyaltyProgram, Merchant, MerchantLoyaltySettings, Reward

CACHED_MODELS = (LoyaltyProgram, Reward, MerchantLoyaltySettings, HappyHour)


#: name -> loader(merchant_id): what other areas keep per merchant beside these rows, read and
#: dropped with them (the integrations' webhook subscriptions); registered by those areas, so
#: the engine imports none of them. Loaded only for a copy that is kept (a request's).
EXTRAS = {}


@dataclass(frozen=True)
class MerchantRows:
    version: int
    program: object  # LoyaltyProgram or None
    rewards: list  # active rewards, cheapest first
    settings: object  # MerchantLoyaltySettings
    extras: dict = field(default_factory=dict)  # name in EXTRAS -> what its loader gave
    #: The live happy hours not ended yet (``happy_hours.HappyHourWindow``), oldest first.
    happy_hours: tuple = ()


_lock = threading.Lock()


def _copies():
    """This app's copies (one app per worker; each test app starts empty)."""
    return current_app.extensions.setdefault("merchant_rows", {})


def _request_version(merchant_id):
    """The version of ``merchant_id`` the signed-in request loaded, or None."""
    if not has_request_context():
        return None
    pinned = g.get("merchant_version")  # an API call: (merchant id, version) of its key
    if pinned is not None:
        return pinned[1] if pinned[0] == merchant_id else None
    tenancy = g.get("tenancy")
    merchant = tenancy.merchant if tenancy is not None else None
    if merchant is None or merchant.id != merchant_id:
        return None
    return merchant.cache_version


def known_version(merchant_id):
    """The merchant's cache version this request already knows (no query), or None."""
    return _request_version(merchant_id)


def _load(merchant_id, version):
    from loyalty.services.engine.happy_hours import load_windows  # noqa: PLC0415
    from loyalty.services.engine.program_rows import loyalty_settings, program_with_rewards  # noqa: PLC0415

    program, rewards = program_with_rewards(merchant_id)
    settings = loyalty_settings(merchant_id)
    extras = {} if version is None else {name: load(merchant_id) for name, load in EXTRAS.items()}
    # Those ended before yesterday (UTC) are left out: a copy kept past midnight still holds
    # every one running on the merchant's clock.
    happy_hours = load_windows(merchant_id, today=clock.now().date() - timedelta(days=1))
    return MerchantRows(version, program, rewards, settings, extras, happy_hours)


def merchant_rows(merchant_id):
    """The merchant's program, active rewards and settings: the worker's copy while the
    merchant's version is unchanged, else read now (and kept, in a request of this merchant)."""
    version = _request_version(merchant_id)
    if version is None:
        return _load(merchant_id, None)
    copy = _copies().get(merchant_id)
    if copy is not None and copy.version == version:
        return copy
    copy = _load(merchant_id, version)
    session = db.session()
    for row in (copy.program, copy.settings, *copy.rewards):
        if row is not None and row in session:
            session.expunge(row)  # a copy for later requests: no session may expire it
    with _lock:
        _copies()[merchant_id] = copy
    return copy


@event.listens_for(Session, "do_orm_execute")
def _bump_on_bulk_writes(execute_state):
    """A set-based UPDATE or DELETE of programs, rewards or settings (a cascading soft delete,
    a restore) names no rows the ORM can see: bump every merchant's version (these are rare)."""
    if not (execute_state.is_update or execute_state.is_delete):
        return
    mapper = execute_state.bind_mapper
    if mapper is not None and issubclass(mapper.class_, CACHED_MODELS):
        execute_state.session.connection().execute(
            update(Merchant.__table__)
            .values(cache_version=Merchant.__table__.c.cache_version + 1))


@event.listens_for(Session, "after_flush")
def _bump_versions(session, _flush_context):
    """Bump the version of every merchant whose program, rewards or settings this flush
    wrote, in the same transaction."""
    changed = {row.merchant_id for row in (*session.new, *session.deleted)
               if isinstance(row, CACHED_MODELS)}
    changed |= {row.merchant_id for row in session.dirty
                if isinstance(row, CACHED_MODELS) and session.is_modified(row)}
    changed.discard(None)
    if changed:
        session.connection().execute(
            update(Merchant.__table__)
            .where(Merchant.__table__.c.id.in_(sorted(changed)))
            .values(cache_version=Merchant.__table__.c.cache_version + 1))
