"""A merchant's team: invite people to a store with a role, change roles, remove them.

Owners manage everyone; a manager invites and removes staff at the stores they manage, and
nothing else. Nobody can remove or demote the last owner. An invitation waits until its person
answers it: someone without an account gets one and a one-time link by email to choose their
password (which accepts it); someone with an account accepts or declines it after signing in,
and until then nothing changes for them. The inviter's answer is the same either way and
shows no link. Every change is in the audit trail.
"""
import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from loyalty import clock
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.links import external_url
from loyalty.models import (
    Membership,
    Merchant,
    PasswordToken,
    Role,
    User,
    hash_secret,
    soft_delete_cascade,
)
from loyalty.services import audit
from loyalty.services.delivery import mail
from loyalty.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from loyalty.services.platform import password_links, sessions
from loyalty.services.platform.accounts import (
    PASSWORD_LENGTH_MESSAGE,
    bcrypt_rounds,
    normalize_email,
    password_length_ok,
)

LINK_DAYS = 7
ALREADY = _l("This person already has this role here.")
LAST_OWNER = _l("The shop needs at least one owner: make someone else owner first.")


_digest = password_links.digest


def members_of(merchant_id, store_ids=None):
    """Live memberships and waiting invitations with their person and store; a manager sees
    their stores' staff."""
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
        Membership.merchant_id == merchant_id, Membership.role == Role.MERCHANT_OWNER,
        Membership.accepted_at.is_not(None)))


def _check_may_manage(actor, role, store_id):
    """A manager manages staff at their own stores only."""
    if actor is None or actor.store_ids is None:
        return
    if role is not Role.STORE_STAFF or store_id not in actor.store_ids:
        raise PermissionDenied(_l("Managers add and remove staff at their own stores only."))


def _new_link(user, membership):
    token = secrets.token_urlsafe(32)
    db.session.add(PasswordToken(user_id=user.id, membership_id=membership.id,
                                 token_hash=_digest(token),
                                 expires_at=clock.now() + timedelta(days=LINK_DAYS)))
    return token


def _checked(merchant, email, name, role, store, actor):
    role = Role(role)
    email = normalize_email(email)
    if "@" not in email:
        raise InvalidInput(_l("Enter a valid email address, like name@example.com."))
    if not (name or "").strip():
        # Asked of every invitation alike: asking only when there is no account would tell
        # the inviter who has one.
        raise InvalidInput(_l("Enter the person's name."), field="name")
    if role is Role.MERCHANT_OWNER:
        store = None
    elif store is None or store.merchant_id != merchant.id:
        raise InvalidInput(_l("Choose one of your stores for this role."))
    _check_may_manage(actor, role, store.id if store else None)
    return email, role, store


def invite(merchant, *, email, name, role, store=None, actor=None):
    """Invite ``email`` to a role at the merchant (a store role names its store). The
    invitation waits for its person's answer and is emailed to them. Returns
    ``(membership, token)``: ``token`` is the set-password link's secret for a new account
    (it travels by email only; the inviter is never shown it)."""
    email, role, store = _checked(merchant, email, name, role, store, actor)
    try:
        with write_transaction():
            return _invite(merchant, email, name, role, store, actor)
    except IntegrityError as exc:  # the same invitation sent twice at once
        raise Conflict(ALREADY) from exc


def invite_in_transaction(merchant, *, email, name, role, store=None, actor=None):
    """``invite`` as part of the caller's write transaction (a new merchant's owner)."""
    email, role, store = _checked(merchant, email, name, role, store, actor)
    return _invite(merchant, email, name, role, store, actor)


def _still_without_password(user):
    """Made by an invitation whose link was never used: no password of their own yet, so every
    invitation (another shop's, or this one's again after the first was removed or its link
    expired) brings them a link to choose one."""
    used = db.session.scalars(select(PasswordToken.used_at).where(
        PasswordToken.user_id == user.id, PasswordToken.membership_id.is_not(None))).all()
    return bool(used) and all(when is None for when in used)


def _invite(merchant, email, name, role, store, actor):
    user = db.session.scalar(select(User).where(User.email == email))
    new_account = user is None or _still_without_password(user)
    if user is None:
        user = User(email=email, name=name.strip(), preferred_locale=merchant.default_locale,
                    password_hash=hash_secret(secrets.token_urlsafe(24), 4))
        db.session.add(user)
        db.session.flush()
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
    token = _new_link(user, membership) if new_account else None
    audit.record(actor, "team.invite", membership, merchant_id=merchant.id, label=user.email,
                 changes={"role": (None, role.value),
                          "store_id": (None, store.id if store else None)})
    # The link's secret rides in the outbox row until the email is sent (then it is
    # dropped from the row); the database keeps only its digest otherwise.
    mail.queue_email("team_invitation", merchant_id=merchant.id,
                     membership_id=membership.id, secret=token)
    return membership, token


def invitation_letter(payload):
    """The invitation email: the set-password link for a new account, else the page where
    they accept or decline it after signing in."""
    membership = db.session.get(Membership, payload["membership_id"])
    if membership is None or not membership.is_pending:  # removed or answered before it went out
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
                          else external_url("auth.invitations")),
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
                and not membership.is_pending and _owner_count(membership.merchant_id) <= 1):
            raise Conflict(LAST_OWNER)
        audit.apply_changes(actor, "team.role", membership, {"role": role, "store_id": store_id},
                            label=membership.user.email)
    return membership


def remove(membership, *, actor=None):
    """Soft-delete the membership; someone left with none is signed out everywhere."""
    _check_may_manage(actor, membership.role, membership.store_id)
    with write_transaction():
        if (membership.role is Role.MERCHANT_OWNER and not membership.is_pending
                and _owner_count(membership.merchant_id) <= 1):
            raise Conflict(LAST_OWNER)
        audit.record(actor, "team.remove", membership, merchant_id=membership.merchant_id,
                     label=membership.user.email,
                     changes={"role": (membership.role.value, None)})
        batch = soft_delete_cascade(membership, db.session.get(User, actor.user_id)
                                    if actor and actor.user_id else None)
        sessions.end_sessions_for_deletion(batch)


LINK_GONE = _l("This link has expired or was already used. Ask the shop owner for a new one.")


def _live_link(token):
    """The unused, unexpired link whose invitation (if it names one) still stands."""
    return db.session.scalar(
        select(PasswordToken)
        .outerjoin(Membership, (Membership.id == PasswordToken.membership_id)
                   & Membership.deleted_at.is_(None))
        .where(PasswordToken.token_hash == _digest(token or ""), PasswordToken.used_at.is_(None),
               PasswordToken.expires_at > clock.now(),
               (PasswordToken.membership_id.is_(None)) | (Membership.id.is_not(None))))


def user_for_link(token):
    """The person a set-password link is for, or NotFound when it is unknown, used, old, or
    its invitation was removed."""
    link = _live_link(token)
    user = link and db.session.get(User, link.user_id)
    if user is None:
        raise NotFound(LINK_GONE)
    return user


def set_password_from_link(token, password, *, ip_address=None):
    """Set the password once and accept the invitation the link came with (a reset link
    without one stops the person's other reset links, audited); the link stops working and
    every session of the person ends."""
    if not password_length_ok(password):
        raise InvalidInput(PASSWORD_LENGTH_MESSAGE)
    user = user_for_link(token)
    password_hash = hash_secret(password, bcrypt_rounds())
    with write_transaction():
        link = _live_link(token)
        used = link is not None and db.session.execute(
            update(PasswordToken)
            .where(PasswordToken.id == link.id, PasswordToken.used_at.is_(None))
            .values(used_at=clock.now()).execution_options(synchronize_session=False)
        ).rowcount
        if not used:
            raise NotFound(LINK_GONE)
        db.session.execute(update(User).where(User.id == user.id).values(password_hash=password_hash)
                           .execution_options(synchronize_session=False))
        if link.membership_id is not None:
            _accept(db.session.get(Membership, link.membership_id), user, ip_address)
        else:
            password_links.reset_used(user, link, ip_address)
        sessions.end_sessions_of(user.id, sessions.PASSWORD_CHANGED)
    return user


# --- the invited person's answer -----------------------------------------------------------

def invitations_for(user):
    """The invitations waiting for ``user``'s answer, with their merchant and store."""
    return db.session.scalars(
        select(Membership)
        .join(Membership.merchant)
        .where(Membership.user_id == user.id, Membership.accepted_at.is_(None))
        .options(joinedload(Membership.merchant), joinedload(Membership.store))
        .order_by(Membership.id)
    ).all()


def _waiting_invitation(user, membership_id):
    membership = db.session.scalar(
        select(Membership).where(Membership.id == membership_id, Membership.user_id == user.id,
                                 Membership.accepted_at.is_(None)).with_for_update())
    if membership is None:
        raise NotFound(_l("This invitation was withdrawn or already answered."))
    return membership


def _accept(membership, user, ip_address=None):
    membership.accepted_at = clock.now()
    audit.record(audit.Actor(user_id=user.id, ip_address=ip_address), "team.accept", membership,
                 merchant_id=membership.merchant_id, label=user.email)


def accept_invitation(user, membership_id, *, ip_address=None):
    """``user`` joins the team that invited them; returns the membership, now in force."""
    with write_transaction():
        membership = _waiting_invitation(user, membership_id)
        _accept(membership, user, ip_address)
    return membership


def decline_invitation(user, membership_id, *, ip_address=None):
    """``user`` says no: the invitation is removed (the inviter sees it gone, its link too)."""
    with write_transaction():
        membership = _waiting_invitation(user, membership_id)
        audit.record(audit.Actor(user_id=user.id, ip_address=ip_address), "team.decline",
                     membership, merchant_id=membership.merchant_id, label=user.email)
        soft_delete_cascade(membership, db.session.get(User, user.id))
