"""Accounts and tenancy set-up: users, merchants, stores, memberships, customers."""
from contextlib import contextmanager
from functools import cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from loyalty import contacts
from loyalty.contacts import normalize_email  # noqa: F401 - callers use accounts.normalize_email
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import (
    SECRET_MAX_BYTES,
    Customer,
    Membership,
    Merchant,
    Role,
    Store,
    User,
    check_secret,
    hash_secret,
    restore,
    soft_delete_cascade,
    utcnow,
)
from loyalty.services import audit
from loyalty.services.errors import Conflict, InvalidInput
from loyalty.services.platform import sessions

MIN_PASSWORD_LENGTH = 8
# At most 72 bytes (bcrypt reads no more): 72 plain letters, fewer accented ones.
PASSWORD_LENGTH_MESSAGE = _l("Choose a password of 8 to 72 characters (accented letters count twice).")


def bcrypt_rounds():
    return current_app.config["BCRYPT_ROUNDS"]


@cache
def _timing_dummy_hash(rounds):
    """Checked when the email is unknown, so a missing account costs as much as a wrong password."""
    return hash_secret("timing-equaliser", rounds)


def normalize_phone(text, region=None):
    """The number in E.164 (see ``loyalty.contacts``), or None."""
    return contacts.normalize_phone(text, region)


def authenticate(email, password, *, signing_in=True):
    """The live user with this email and password, or None. Always one bcrypt check. A
    sign-in is recorded; a confirmation (``signing_in=False``) is not."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        check_secret(password or "", _timing_dummy_hash(bcrypt_rounds()))
        return None
    if not user.check_password(password or ""):
        return None
    if signing_in:
        with write_transaction():
            user.last_login_at = utcnow()
    return user


def password_length_ok(password):
    return (len(password or "") >= MIN_PASSWORD_LENGTH
            and len(password.encode("utf-8")) <= SECRET_MAX_BYTES)


def _check_new_password(password):
    if not password_length_ok(password):
        raise InvalidInput(PASSWORD_LENGTH_MESSAGE)


@contextmanager
def _unique(message):
    """One write transaction; a unique-index violation becomes a Conflict with ``message``."""
    try:
        with write_transaction():
            yield
    except IntegrityError as exc:
        raise Conflict(message) from exc


def register_user(email, password, name, *, is_platform_admin=False, preferred_locale=None):
    """Create a user; a live account with the same email is refused, a deleted one is not."""
    email = normalize_email(email)
    if "@" not in email:
        raise InvalidInput(_l("Enter a valid email address."))
    _check_new_password(password)
    password_hash = hash_secret(password, bcrypt_rounds())  # slow: outside the transaction
    message = _l("An account with this email already exists.")
    with _unique(message):
        if db.session.scalar(select(func.count(User.id)).where(User.email == email)):
            raise Conflict(message)
        user = User(
            email=email,
            name=name.strip(),
            password_hash=password_hash,
            is_platform_admin=is_platform_admin,
            preferred_locale=preferred_locale,
        )
        db.session.add(user)
    return user


def create_merchant(name, slug, *, timezone="Europe/Luxembourg", currency="EUR", locale="en"):
    with _unique(_l("A merchant with this web address already exists.")):
        merchant = Merchant(
            name=name, slug=slug, timezone=timezone, currency=currency, default_locale=locale
        )
        db.session.add(merchant)
    return merchant


def create_store(merchant, name, code, *, address=None):
    with _unique(_l("This store code is already used by another of your stores.")):
        store = Store(
            merchant_id=merchant.id, name=name, code=code.strip().upper(), address=address
        )
        db.session.add(store)
    return store


def add_member(user, merchant, role, *, store=None):
    """Give ``user`` a role at ``merchant``; store roles name their store."""
    role = Role(role)
    if role is Role.MERCHANT_OWNER:
        store = None
    elif store is None or store.merchant_id != merchant.id:
        raise InvalidInput(_l("Choose one of this merchant's stores for a store role."))
    with write_transaction():
        membership = Membership(
            user_id=user.id,
            merchant_id=merchant.id,
            store_id=store.id if store else None,
            role=role,
            accepted_at=utcnow(),  # given by an admin or the demo, not an invitation
        )
        db.session.add(membership)
    return membership


def create_customer(merchant, name, *, email=None, phone=None, locale=None, consent=True):
    with _unique(_l("A customer with this email already exists.")):
        customer = Customer(
            merchant_id=merchant.id,
            name=name.strip(),
            email=normalize_email(email) or None,
            phone=normalize_phone(phone, merchant.country),
            preferred_locale=locale,
            consent_at=utcnow() if consent else None,
        )
        db.session.add(customer)
    return customer


def delete_record(record, *, by=None, then=None):
    """Soft-delete a record and whatever its deletion carries along (a merchant's stores,
    memberships and customers; a store's memberships; a user's memberships). Whoever it leaves
    without an account or any membership is signed out everywhere. ``then(batch)`` runs in
    the same transaction (the audit entry). The record is locked and read again first: of two
    deletions at once, the second finds it deleted (Conflict) instead of starting a batch
    of its own."""
    with write_transaction():
        model = type(record)
        record = db.session.scalar(
            select(model).where(model.id == record.id).with_for_update()
            .execution_options(include_deleted=True, populate_existing=True))
        if record is None or record.deleted_at is not None:
            raise Conflict(_l("This record is already deleted."))
        batch = soft_delete_cascade(record, by)
        sessions.end_sessions_for_deletion(batch)
        if then is not None:
            then(batch)


def change_password(user, current_password, new_password):
    """Set a new password after checking the current one. Every session of the user ends, the
    one asking included: a copy of any cookie, this device's too, does not outlive the
    password that opened it (the caller gives this device a fresh session). ``user`` may be
    the signed-in one; returns their row."""
    user = db.session.get(User, user.id)
    if not user.check_password(current_password or ""):
        raise InvalidInput(_l("Your current password is not right. Type it again."))
    _check_new_password(new_password)
    password_hash = hash_secret(new_password, bcrypt_rounds())  # slow: outside the transaction
    with write_transaction():
        db.session.execute(
            update(User).where(User.id == user.id).values(password_hash=password_hash)
            .execution_options(synchronize_session=False)
        )
        sessions.end_sessions_of(user.id, sessions.PASSWORD_CHANGED)
    return user


def restore_record(record, *, then=None):
    """Bring back a soft-deleted record and whatever its deletion carried along; ``then()``
    runs in the same transaction."""
    with _unique(_l("Cannot restore: a live record now uses the same email or code.")):
        restore(record)
        if then is not None:
            then()


def _owners_first(memberships):
    return sorted(memberships, key=lambda m: (m.merchant_id, m.store_id is not None, m.id))


def signed_in_memberships(user):
    """The memberships in force ``sessions.load_session_user`` brought along (live and
    accepted: an invitation gives nothing until it is accepted), owners first."""
    return _owners_first(user.memberships)


def memberships_of(user):
    """Any user's live, accepted memberships with live merchants, owners first, as the
    database has them."""
    return _owners_first(db.session.scalars(
        select(Membership)
        .join(Membership.merchant)
        .options(contains_eager(Membership.merchant))
        .where(Membership.user_id == user.id, Membership.accepted_at.is_not(None))
    ))


def update_user(user, *, name, email, is_platform_admin, actor):
    """A platform admin changes someone's name, email or admin access (audited). Taking
    away admin access ends that person's sessions, so it holds at once."""
    email = normalize_email(email)
    if "@" not in email:
        raise InvalidInput(_l("Enter a valid email address, like name@example.com."))
    if not (name or "").strip():
        raise InvalidInput(_l("Enter the person's name."))
    if actor is not None and user.id == actor.user_id and not is_platform_admin:
        raise InvalidInput(_l("You cannot take away your own admin access."))
    with _unique(_l("Another account already uses this email address.")):
        user = db.session.get(User, user.id, populate_existing=True)
        demoted = user.is_platform_admin and not is_platform_admin
        values = {"name": name.strip(), "email": email, "is_platform_admin": is_platform_admin}
        changes = audit.changes_between(user, values)
        for field, value in values.items():
            setattr(user, field, value)
        if changes:
            audit.record(actor, "user.update", user, merchant_id=None,
                         label=f"{user.name} <{user.email}>", changes=changes)
        if demoted:
            keep_an_admin()
            sessions.end_sessions_of(user.id, sessions.ACCESS_REMOVED)
    return user


def keep_an_admin():
    """Inside the change's transaction: refuse it if no live platform admin would remain.
    The admins' rows are locked, so two admins removing each other at once cannot both pass."""
    db.session.flush()
    admins = db.session.scalars(select(User.id).where(
        User.is_platform_admin.is_(True), User.deleted_at.is_(None)).with_for_update()).all()
    if not admins:
        raise Conflict(_l("The platform needs at least one admin: make someone else an admin "
                          "first."))
