"""A merchant's team: invite people to a store with a role, change roles, remove them.

Owners manage everyone; a manager invites and removes staff at the stores they manage, and
nothing else. Nobody can remove or demote the last owner. Someone invited without an account
gets one with a one-time link to set their password, shown to whoever invited them and
emailed to them (someone with an account is told by email where they now work). Every change
is in the audit trail.
"""
import hashlib
import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from loyalty import clock
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import (
    Membership,
    Merchant,
    PasswordToken,
    Role,
    User,
    hash_secret,
    soft_delete_cascade,
)
from loyalty.links import external_url
from loyalty.services import audit, mail, sessions
from loyalty.services.accounts import (
    PASSWORD_LENGTH_MESSAGE,
    bcrypt_rounds,
    normalize_email,
    password_length_ok,
)
from loyalty.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied

LINK_DAYS = 7
ALREADY = _l("This person already has this role here.")
LAST_OWNER = _l("The shop needs at least one owner: make someone else owner first.")


def _digest(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def members_of(merchant_id, store_ids=None):
    """Live memberships with their person and store; a manager sees their stores' staff."""
    query = (
        select(Membership)
        .join(Membership.user)
        .where(Membership.merchant_id == merchant_id)
        .options(joinedload(Membership.user), joinedload(Membership.store))
        .order_by(User.name, Membership.id)
    )
    if store_ids is not None:
        query = query.where(Membership.store_id.in_(store_ids))
    return db.session.scalars(query).all()


def _owner_count(merchant_id):
    """Live owners, counted with the merchant row locked: two owners demoting or removing
    each other at once cannot both pass the last-owner check (SQLite holds the write lock)."""
    db.session.execute(select(Merchant.id).where(Merchant.id == merchant_id).with_for_update())
    return db.session.scalar(select(func.count(Membership.id)).where(
        Membership.merchant_id == merchant_id, Membership.role == Role.MERCHANT_OWNER))


def _check_may_manage(actor, role, store_id):
    """A manager manages staff at their own stores only."""
    if actor is None or actor.store_ids is None:
        return
    if role is not Role.STORE_STAFF or store_id not in actor.store_ids:
        raise PermissionDenied(_l("Managers add and remove staff at their own stores only."))


def _new_link(user):
    token = secrets.token_urlsafe(32)
    db.session.add(PasswordToken(user_id=user.id, token_hash=_digest(token),
                                 expires_at=clock.now() + timedelta(days=LINK_DAYS)))
    return token


def _checked(merchant, email, role, store, actor):
    role = Role(role)
    email = normalize_email(email)
    if "@" not in email:
        raise InvalidInput(_l("Enter a valid email address, like name@example.com."))
    if role is Role.MERCHANT_OWNER:
        store = None
    elif store is None or store.merchant_id != merchant.id:
        raise InvalidInput(_l("Choose one of your stores for this role."))
    _check_may_manage(actor, role, store.id if store else None)
    return email, role, store


def invite(merchant, *, email, name, role, store=None, actor=None):
    """Give ``email`` a role at the merchant (a store role names its store). Returns
    ``(membership, token)``: ``token`` is the set-password link's secret for a new account."""
    email, role, store = _checked(merchant, email, role, store, actor)
    try:
        with write_transaction():
            return _invite(merchant, email, name, role, store, actor)
    except IntegrityError as exc:  # the same invitation sent twice at once
        raise Conflict(ALREADY) from exc


def invite_in_transaction(merchant, *, email, name, role, store=None, actor=None):
    """``invite`` as part of the caller's write transaction (a new merchant's owner)."""
    email, role, store = _checked(merchant, email, role, store, actor)
    return _invite(merchant, email, name, role, store, actor)


def _invite(merchant, email, name, role, store, actor):
    token = None
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        if not (name or "").strip():
            raise InvalidInput(_l("Enter the person's name: they have no account yet."))
        user = User(email=email, name=name.strip(), preferred_locale=merchant.default_locale,
                    password_hash=hash_secret(secrets.token_urlsafe(24), 4))
        db.session.add(user)
        db.session.flush()
        token = _new_link(user)
    duplicate = db.session.scalar(select(Membership.id).where(
        Membership.user_id == user.id, Membership.merchant_id == merchant.id,
        Membership.role == role,
        Membership.store_id.is_(None) if store is None else Membership.store_id == store.id))
    if duplicate:
        raise Conflict(ALREADY)
    membership = Membership(user_id=user.id, merchant_id=merchant.id, role=role,
                            store_id=store.id if store else None)
    db.session.add(membership)
    db.session.flush()
    audit.record(actor, "team.invite", membership, merchant_id=merchant.id, label=user.email,
                 changes={"role": (None, role.value),
                          "store_id": (None, store.id if store else None)})
    # The link's secret rides in the outbox row until the email is sent (then it is
    # dropped from the row); the database keeps only its digest otherwise.
    mail.queue_email("team_invitation", merchant_id=merchant.id,
                     membership_id=membership.id, secret=token)
    return membership, token


def invitation_letter(payload):
    """The invitation email: the set-password link for a new account, else where to sign in."""
    membership = db.session.get(Membership, payload["membership_id"])
    if membership is None:  # removed before the email went out
        return None
    user, merchant = membership.user, db.session.get(Merchant, membership.merchant_id)
    secret = payload.get("secret")
    return mail.Letter(
        to=user.email, locale=user.preferred_locale or merchant.default_locale,
        subject=_l("You're invited to join %(shop)s", shop=merchant.name),
        sender_name=merchant.name,
        context={"name": user.name, "shop": merchant.name, "role": membership.role.value,
                 "store": membership.store.name if membership.store else None,
                 "link": (external_url("auth.set_password", token=secret) if secret
                          else external_url("auth.login")),
                 "new_account": bool(secret), "link_days": LINK_DAYS,
                 "color": mail.brand_color(merchant.id)})


def change_role(membership, role, store=None, *, actor=None):
    """Move a member to another role (a store role names its store)."""
    role = Role(role)
    store_id = None if role is Role.MERCHANT_OWNER else (store.id if store else None)
    if role is not Role.MERCHANT_OWNER and (store is None
                                             or store.merchant_id != membership.merchant_id):
        raise InvalidInput(_l("Choose one of your stores for this role."))
    if actor is not None and actor.store_ids is not None:
        raise PermissionDenied(_l("Only an owner can change roles."))
    with write_transaction():
        if (membership.role is Role.MERCHANT_OWNER and role is not Role.MERCHANT_OWNER
                and _owner_count(membership.merchant_id) <= 1):
            raise Conflict(LAST_OWNER)
        audit.apply_changes(actor, "team.role", membership, {"role": role, "store_id": store_id},
                            label=membership.user.email)
    return membership


def remove(membership, *, actor=None):
    """Soft-delete the membership; someone left with none is signed out everywhere."""
    _check_may_manage(actor, membership.role, membership.store_id)
    with write_transaction():
        if membership.role is Role.MERCHANT_OWNER and _owner_count(membership.merchant_id) <= 1:
            raise Conflict(LAST_OWNER)
        audit.record(actor, "team.remove", membership, merchant_id=membership.merchant_id,
                     label=membership.user.email,
                     changes={"role": (membership.role.value, None)})
        batch = soft_delete_cascade(membership, db.session.get(User, actor.user_id)
                                    if actor and actor.user_id else None)
        sessions.end_sessions_for_deletion(batch)


def user_for_link(token):
    """The person a set-password link is for, or NotFound when it is unknown, used or old."""
    link = db.session.scalar(select(PasswordToken).where(
        PasswordToken.token_hash == _digest(token or ""), PasswordToken.used_at.is_(None),
        PasswordToken.expires_at > clock.now()))
    user = link and db.session.get(User, link.user_id)
    if user is None:
        raise NotFound(_l("This link has expired or was already used. Ask the shop owner for a new one."))
    return user


def set_password_from_link(token, password):
    """Set the password once; the link stops working and any old session ends."""
    if not password_length_ok(password):
        raise InvalidInput(PASSWORD_LENGTH_MESSAGE)
    user = user_for_link(token)
    password_hash = hash_secret(password, bcrypt_rounds())
    with write_transaction():
        used = db.session.execute(
            update(PasswordToken)
            .where(PasswordToken.token_hash == _digest(token), PasswordToken.used_at.is_(None))
            .values(used_at=clock.now()).execution_options(synchronize_session=False)
        ).rowcount
        if not used:
            raise NotFound(_l("This link has expired or was already used. Ask the shop owner for a new one."))
        db.session.execute(update(User).where(User.id == user.id).values(password_hash=password_hash)
                           .execution_options(synchronize_session=False))
        sessions.end_sessions_of(user.id, sessions.PASSWORD_CHANGED)
    return user
