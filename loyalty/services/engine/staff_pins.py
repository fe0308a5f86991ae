"""Staff PINs: create and manage them, and verify one with a single bcrypt check.

At the counter the staff member taps their name, then types the PIN: a wrong PIN always counts
against a person, so guessing PINs without picking anyone is not possible. The keyed hash
``pin_lookup`` keeps PINs unique within a store (no two people share one).

A wrong attempt is counted before the PIN is checked, under the PIN's row lock, and the one
that reaches the threshold sets ``locked_until``: parallel guesses can neither be lost nor
checked past the lock. An attempt the keyed lookup already knows for the right PIN is not
counted at all (only refused while the PIN is locked), so right PINs typed at the same moment
never lock each other out. A right PIN clears the count, and so does the end of a lock.
"""
import hmac
import re
import secrets
from datetime import timedelta
from hashlib import sha256

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.attributes import set_committed_value

from loyalty import clock, metrics
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import (
    Membership,
    Merchant,
    Role,
    StaffPin,
    check_secret,
    hash_secret,
)
from loyalty.models.staff import NAME_INDEX
from loyalty.services import audit, events
from loyalty.services.engine.merchant_cache import known_version, merchant_rows
from loyalty.services.engine.program_rows import loyalty_settings, pin_lockout_policy
from loyalty.services.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PinLocked,
    PinRequired,
    Refused,
    WrongPin,
)

PIN_PATTERN = re.compile(r"^[0-9]{4,8}\Z")
GENERATED_PIN_DIGITS = 4
PIN_DRAWS = 20


def pin_lookup(store_id, pin):
    """Keyed hash of store + PIN, unique among a store's active PINs (no bcrypt loop needed)."""
    key = current_app.config["PIN_LOOKUP_KEY"].encode("utf-8")
    return hmac.new(key, f"{store_id}:{pin}".encode(), sha256).hexdigest()


def _check_pin_format(pin):
    if not PIN_PATTERN.match(pin or ""):
        raise InvalidInput(_l("A PIN is 4 to 8 digits."))


class PinTaken(Conflict):
    """The PIN is another active PIN's at the same store."""


def _unique_pin(message=None):
    return PinTaken(message or _l("Someone at this store already uses this PIN. Choose another."))


def pin_rounds():
    return current_app.config["PIN_BCRYPT_ROUNDS"]


def _cost(bcrypt_hash):
    """The cost a bcrypt hash ("$2b$12$...") was made with."""
    try:
        return int(bcrypt_hash.split("$")[2])
    except (IndexError, ValueError):
        return None


def create_staff_pin(merchant, store, staff_name, pin, *, actor=None):
    _check_pin_format(pin)
    if store.merchant_id != merchant.id:
        raise NotFound(_l("This store does not exist."))
    _check_scope(actor, merchant.id, store.id)
    if not (staff_name or "").strip():
        raise InvalidInput(_l("Enter the staff member's name."))
    pin_hash = hash_secret(pin, pin_rounds())
    try:
        with write_transaction():
            staff_pin = StaffPin(
                merchant_id=merchant.id,
                store_id=store.id,
                staff_name=staff_name.strip(),
                pin_hash=pin_hash,
                pin_lookup=pin_lookup(store.id, pin),
            )
            db.session.add(staff_pin)
            db.session.flush()
            _record(actor, "pin.create", staff_pin, {"staff_name": (None, staff_pin.staff_name)})
    except IntegrityError as exc:
        raise _clash(exc, staff_name) from exc
    return staff_pin


def _clash(error, staff_name):
    """Which unique rule a write broke: the name (two people alike on the terminal, or a form
    sent twice) or the PIN (someone else's at this store)."""
    if NAME_INDEX in str(error.orig):
        return Conflict(_l("%(name)s already has a PIN at this store. Give them a new PIN instead.",
                           name=staff_name.strip()))
    return _unique_pin()


def _check_scope(actor, merchant_id, store_id):
    """The acting person's merchant, and for a manager one of their stores, or "not found"."""
    if actor is not None:
        actor.require_store(merchant_id, store_id)


def _record(actor, action, staff_pin, changes=None):
    audit.record(actor, action, staff_pin, merchant_id=staff_pin.merchant_id,
                 label=staff_pin.staff_name, changes=changes)


def _new_pin():
    return f"{secrets.randbelow(10 ** GENERATED_PIN_DIGITS):0{GENERATED_PIN_DIGITS}d}"


def issue_staff_pin(store, staff_name, *, actor=None):
    """A new staff member with a PIN chosen at random (unique at the store). Returns
    ``(staff_pin, pin)``: the PIN is shown once and never stored in clear."""
    _check_scope(actor, store.merchant_id, store.id)
    merchant = db.session.get(Merchant, store.merchant_id)
    for _ in range(PIN_DRAWS):
        pin = _new_pin()
        try:
            staff_pin = create_staff_pin(merchant, store, staff_name, pin, actor=actor)
        except PinTaken:
            continue  # that PIN is someone else's at this store: draw again
        return staff_pin, pin
    raise _unique_pin(_l("Could not find a free PIN for this store. Try again."))


def update_staff_pin(staff_pin, staff_name, *, can_unlock=None, actor=None):
    """Rename the staff member and, when given, say whether their PIN is a manager's (it
    unlocks a locked PIN at the terminal)."""
    _check_scope(actor, staff_pin.merchant_id, staff_pin.store_id)
    if not (staff_name or "").strip():
        raise InvalidInput(_l("Enter the staff member's name."))
    values = {"staff_name": staff_name.strip()}
    if can_unlock is not None:
        values["can_unlock"] = bool(can_unlock)
    try:
        with write_transaction():
            audit.apply_changes(actor, "pin.update", staff_pin, values, label=staff_name.strip())
    except IntegrityError as exc:
        raise _clash(exc, staff_name) from exc
    return staff_pin


def reset_staff_pin(staff_pin, new_pin=None, *, actor=None):
    """Give the staff member a new PIN (drawn at random when none is given); clears failed
    attempts and any lock. Returns the new PIN, to show once."""
    _check_scope(actor, staff_pin.merchant_id, staff_pin.store_id)
    for _ in range(PIN_DRAWS if new_pin is None else 1):
        pin = new_pin or _new_pin()
        _check_pin_format(pin)
        pin_hash = hash_secret(pin, pin_rounds())
        try:
            with write_transaction():
                staff_pin.pin_hash = pin_hash
                staff_pin.pin_lookup = pin_lookup(staff_pin.store_id, pin)
                staff_pin.failed_attempts = 0
                staff_pin.locked_until = None
                _record(actor, "pin.reset", staff_pin)
        except IntegrityError as exc:
            if new_pin is not None:
                raise _unique_pin() from exc
            continue
        return pin
    raise _unique_pin(_l("Could not find a free PIN for this store. Try again."))


def deactivate_staff_pin(staff_pin, *, actor=None):
    _check_scope(actor, staff_pin.merchant_id, staff_pin.store_id)
    with write_transaction():
        if staff_pin.is_active:
            staff_pin.is_active = False
            _record(actor, "pin.deactivate", staff_pin, {"is_active": (True, False)})
    return staff_pin


def unlock_staff_pin(staff_pin, *, actor=None):
    _check_scope(actor, staff_pin.merchant_id, staff_pin.store_id)
    with write_transaction():
        staff_pin.failed_attempts = 0
        staff_pin.locked_until = None
        _record(actor, "pin.unlock", staff_pin)
    return staff_pin


def staff_pins_of(merchant_id, store_ids=None):
    """Active staff PINs of the merchant (a manager's stores only), with their store: only
    at stores that still exist (a deleted store's PINs open no terminal, so they are not
    listed as if they worked)."""
    query = (
        select(StaffPin)
        .join(StaffPin.store)  # the live-rows filter drops a deleted store, and its PINs
        .where(StaffPin.merchant_id == merchant_id, StaffPin.is_active.is_(True))
        .options(contains_eager(StaffPin.store))
        .order_by(StaffPin.store_id, StaffPin.staff_name)
    )
    if store_ids is not None:
        query = query.where(StaffPin.store_id.in_(store_ids))
    return db.session.scalars(query).all()


def staff_pins_at(merchant_id, store_id):
    return db.session.scalars(
        select(StaffPin)
        .where(StaffPin.merchant_id == merchant_id, StaffPin.store_id == store_id,
               StaffPin.is_active.is_(True))
        .order_by(StaffPin.staff_name)
    ).all()


def _locked_message(staff_pin, locked_until):
    timezone = db.session.get(Merchant, staff_pin.merchant_id).timezone
    return _l(
        "This PIN is locked until %(time)s after too many wrong attempts. A manager or the "
        "owner can unlock it here with their password or a manager PIN.",
        time=clock.local_time_label(locked_until, timezone),
    )


def unlock_at_terminal(merchant_id, store_id, locked_pin_id, *, manager=None, user=None,
                       actor=None):
    """Unlock a PIN of ``store_id`` at the counter, on the word of a manager: ``manager`` (a
    StaffPin already verified) must be a manager's PIN, ``user`` (already authenticated) the
    merchant's owner or a manager of this store. Raises NotFound / Refused."""
    locked = db.session.scalar(select(StaffPin).where(
        StaffPin.id == locked_pin_id, StaffPin.merchant_id == merchant_id,
        StaffPin.store_id == store_id, StaffPin.is_active.is_(True)))
    if locked is None:
        raise NotFound(_l("This staff member is not set up at this store."))
    if manager is not None:
        if not manager.can_unlock or manager.id == locked.id:
            raise Refused(_l("%(name)s's PIN cannot unlock PINs. Use a manager PIN or a "
                             "manager's password.", name=manager.staff_name))
        by = manager.staff_name
    elif user is not None and can_manage_store(user, merchant_id, store_id):
        by = user.email
    else:
        raise Refused(_l("Only the owner or a manager of this store can unlock a PIN."))
    with write_transaction():
        locked.failed_attempts = 0
        locked.locked_until = None
        _record(actor, "pin.unlock", locked, {"unlocked_by": (None, by)})
    return locked


def can_manage_store(user, merchant_id, store_id):
    """The merchant's owner, or a manager of this store (live, accepted memberships only:
    an invitation gives nothing until it is accepted)."""
    return db.session.scalar(select(Membership.id).where(
        Membership.user_id == user.id, Membership.merchant_id == merchant_id,
        Membership.accepted_at.is_not(None),
        or_(Membership.role == Role.MERCHANT_OWNER,
            and_(Membership.role == Role.STORE_MANAGER, Membership.store_id == store_id)),
    ).limit(1)) is not None


def unlocking_pins_at(merchant_id, store_id):
    """The manager PINs of the store, those that can unlock another PIN."""
    return [pin for pin in staff_pins_at(merchant_id, store_id) if pin.can_unlock]


def verify_staff_pin(merchant_id, store_id, pin, *, staff_pin_id):
    """The picked staff member's active StaffPin if ``pin`` is theirs, or a refusal saying
    what to do. One bcrypt check. Only a wrong PIN counts toward that person's lockout, and it
    is counted before it is checked; a right PIN is refused only while the PIN is locked,
    never because other attempts run beside it."""
    if staff_pin_id is None:
        raise PinRequired(_l("Tap your name, then enter your PIN."))
    if not pin:
        raise PinRequired(_l("Enter your staff PIN to continue."))
    staff_pin = db.session.scalar(select(StaffPin).where(
        StaffPin.id == staff_pin_id,
        StaffPin.merchant_id == merchant_id,
        StaffPin.store_id == store_id,
        StaffPin.is_active.is_(True),
    ).execution_options(populate_existing=True))
    if staff_pin is None:
        raise NotFound(_l("This staff member is not set up at this store."))
    now = clock.now()
    threshold, minutes = pin_lockout_policy(_settings(merchant_id))
    lock_until = now + timedelta(minutes=minutes)
    counted = None
    if hmac.compare_digest(pin_lookup(staff_pin.store_id, pin), staff_pin.pin_lookup):
        # Their PIN by the keyed lookup: no failure to count, only a lock to respect. Counting
        # it would let right PINs typed at the same moment lock each other out.
        _refuse_if_locked(staff_pin, staff_pin.locked_until, now)
    else:
        counted = _count_failure(staff_pin, now, threshold, lock_until)
    if check_secret(pin, staff_pin.pin_hash):
        _clear_failures(staff_pin, pin, now, despite_lock=counted is not None)
        return staff_pin
    if counted is None:  # the lookup and the hash disagree (a hash set by hand): still wrong
        counted = _count_failure(staff_pin, now, threshold, lock_until)
    failed, locked_until = counted
    if locked_until is not None:  # this attempt locked it
        metrics.PIN_LOCKOUTS.inc()
        raise PinLocked(_locked_message(staff_pin, locked_until))
    left = threshold - failed
    raise WrongPin(
        lazy_ngettext("Wrong PIN. %(num)d attempt left before it locks.",
                      "Wrong PIN. %(num)d attempts left before it locks.", left),
        attempts_left=left,
    )


def _settings(merchant_id):
    """The merchant's settings: the worker's copy in a request that knows its version."""
    if known_version(merchant_id) is not None:
        return merchant_rows(merchant_id).settings
    return loyalty_settings(merchant_id)


def _row_under_lock(staff_pin):
    """(failed_attempts, locked_until) read under the PIN's row lock (on SQLite, the write
    transaction's), so what is decided on them cannot change before it is written."""
    return db.session.execute(
        select(StaffPin.failed_attempts, StaffPin.locked_until)
        .where(StaffPin.id == staff_pin.id).with_for_update()
    ).one()


def _refuse_if_locked(staff_pin, locked_until, now):
    if locked_until is not None and locked_until > now:
        raise PinLocked(_locked_message(staff_pin, locked_until))


def _count_failure(staff_pin, now, threshold, lock_until):
    """Count a wrong attempt before it is checked, under the PIN's row lock: parallel guesses
    are counted one after the other, the one that reaches the threshold locks the PIN, and
    while it is locked an attempt is refused (PinLocked) without a bcrypt check. Once a lock
    has ended the count starts again from zero. Returns (failures so far, the end of the lock
    this attempt set, or None). A wrong PIN typed while it is locked is still reported
    (``events.pin_refused``, for the wrong-PIN alert), committed before the refusal."""
    with write_transaction():
        failed, locked_until = _row_under_lock(staff_pin)
        events.pin_refused(staff_pin.merchant_id, staff_pin.store_id, staff_pin.id, now)
        refused_until = locked_until if locked_until is not None and locked_until > now else None
        if refused_until is None:
            failed = 1 if locked_until is not None else failed + 1  # a lock that ended: afresh
            locked_until = lock_until if failed >= threshold else None
            db.session.execute(
                update(StaffPin).where(StaffPin.id == staff_pin.id)
                .values(failed_attempts=failed, locked_until=locked_until)
                .execution_options(synchronize_session=False)
            )
    if refused_until is not None:
        raise PinLocked(_locked_message(staff_pin, refused_until))
    return failed, locked_until


def _clear_failures(staff_pin, pin, now, *, despite_lock):
    """A right PIN: its use is recorded and the failure count starts again. Wrong guesses
    that locked the PIN meanwhile keep it locked (PinLocked), unless this attempt was itself
    counted within the threshold (``despite_lock``)."""
    values = {"failed_attempts": 0, "locked_until": None, "last_used_at": now}
    if _cost(staff_pin.pin_hash) != pin_rounds():  # hashed at an older cost: bring it along
        values["pin_hash"] = hash_secret(pin, pin_rounds())
    clear = (update(StaffPin).where(StaffPin.id == staff_pin.id).values(**values)
             .execution_options(synchronize_session=False))
    with write_transaction():
        # One conditional UPDATE: a PIN locked meanwhile matches no row, and is refused.
        unless_locked = clear.where(or_(StaffPin.locked_until.is_(None),
                                        StaffPin.locked_until <= now))
        if db.session.execute(clear if despite_lock else unless_locked).rowcount == 0:
            _refuse_if_locked(staff_pin, _row_under_lock(staff_pin)[1], now)
            db.session.execute(clear)  # unlocked since, by a manager
    for key, value in values.items():  # what the row now holds, without reading it again
        set_committed_value(staff_pin, key, value)
