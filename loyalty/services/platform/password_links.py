"""Password reset links: a one-time link by email to choose a new password.

Anyone may ask for one by typing an address: the request does the same work whether or not an
account uses it (one outbox row; the job looks the account up and mints the link), so neither
the answer nor its timing says who has an account. A platform admin, or an owner (a manager
for their stores' staff), can send one to a person. A reset link is a ``PasswordToken`` with
no invitation, valid ``RESET_MINUTES``; the set-password page (``team.set_password_from_link``)
uses it once, ends the account's other sessions, and the change is in the audit trail.
"""
import hashlib
import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from loyalty import clock
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.links import external_url
from loyalty.models import PasswordToken, Role, User
from loyalty.services import audit
from loyalty.services.delivery import mail
from loyalty.services.errors import InvalidInput, PermissionDenied
from loyalty.services.platform.accounts import normalize_email

RESET_MINUTES = 60


def digest(token):
    """What the database keeps of a link's secret."""
    return hashlib.sha256((token or "").encode("utf-8")).hexdigest()


def request_reset(email, *, locale=None):
    """Someone typed ``email`` on the forgot-password page: one outbox row, the same whether
    or not an account uses the address (its job looks the account up)."""
    with write_transaction():
        mail.queue_email("password_reset", lookup={"email": normalize_email(email)[:254]},
                         locale=locale)


def send_reset(user, *, actor, merchant_id=None):
    """A platform admin (or, with ``merchant_id``, an owner) sends ``user`` a reset link."""
    with write_transaction():
        audit.record(actor, "account.reset_sent", user, merchant_id=merchant_id,
                     label=user.email)
        mail.queue_email("password_reset", merchant_id=merchant_id, user_id=user.id)


def send_reset_to_member(membership, *, actor):
    """An owner sends a team member a reset link; a manager, only to staff at their stores.
    Someone who has not answered their invitation is sent the invitation again instead."""
    if membership.is_pending:
        raise InvalidInput(_l("They have not accepted their invitation yet: invite them again "
                              "to send them a new link."))
    if actor.store_ids is not None and (membership.role is not Role.STORE_STAFF
                                        or membership.store_id not in actor.store_ids):
        raise PermissionDenied(_l("Managers send password resets to staff at their stores "
                                  "only."))
    send_reset(membership.user, actor=actor, merchant_id=membership.merchant_id)


def _recipient(payload):
    if "user_id" in payload:
        user = db.session.get(User, payload["user_id"], populate_existing=True)
    else:
        user = db.session.scalar(select(User).where(
            User.email == (payload.get("lookup") or {}).get("email"), User.deleted_at.is_(None)))
    return user if user is not None and user.deleted_at is None else None


def reset_letter(payload):
    """The reset email with a fresh link, or None when no live account has the address."""
    user = _recipient(payload)
    if user is None:
        return None
    secret = secrets.token_urlsafe(32)
    db.session.add(PasswordToken(user_id=user.id, membership_id=None, token_hash=digest(secret),
                                 expires_at=clock.now() + timedelta(minutes=RESET_MINUTES)))
    return mail.Letter(
        to=user.email, locale=user.preferred_locale or payload.get("locale") or "en",
        subject=_l("Choose a new password"),
        context={"name": user.name, "shop": _l("Loyalty"),
                 "link": external_url("auth.set_password", token=secret),
                 "minutes": RESET_MINUTES, "sent_for_you": "user_id" in payload})


def reset_used(user, link, ip_address=None):
    """A reset link was used (in its transaction): the person's other reset links stop
    working, and the audit trail says the password was reset."""
    db.session.execute(
        update(PasswordToken)
        .where(PasswordToken.user_id == user.id, PasswordToken.membership_id.is_(None),
               PasswordToken.used_at.is_(None), PasswordToken.id != link.id)
        .values(used_at=clock.now()).execution_options(synchronize_session=False))
    audit.record(audit.Actor(user_id=user.id, ip_address=ip_address), "account.password_reset",
                 user, merchant_id=None, label=user.email)
