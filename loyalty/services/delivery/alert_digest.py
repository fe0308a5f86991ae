"""The morning's fraud alert digest: one email a day to the people who review alerts, only
when there is something new.

Each merchant's morning (``jobs/points.merchant_morning``) calls ``digest_morning``. The alerts
no digest included yet (``digested_at`` empty) are locked, marked digested and the emails
written to the outbox in one transaction; only those still open (not reviewed yet) are listed
and counted, and none open sends nothing: the owners get every new alert, a store manager
those of the stores they manage (someone who is both gets the owner's). A morning run again
the same day, or a day without anything new, sends nothing. The email is transactional (no
unsubscribe: reviewing alerts is part of running the shop), composed when sent, in the
recipient's language (theirs, else the shop's), and lists the rule, the store, who acted and
when, with a link to the alerts page.
"""
from zoneinfo import ZoneInfo

from flask_babel import lazy_ngettext
from sqlalchemy import select, update

from loyalty import clock
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.links import external_url
from loyalty.models import FraudAlert, Membership, Merchant, Role, User
from loyalty.services.delivery import mail
from loyalty.services.merchant import fraud_alerts

TEMPLATE = "alert_digest"
#: Alerts listed in one email, at most (the rest are counted, and on the alerts page).
LISTED = 30


def _recipients(merchant_id, alerts):
    """``{user id: [alert ids]}``: owners all of them, managers those of their stores."""
    members = db.session.execute(
        select(Membership.user_id, Membership.role, Membership.store_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.merchant_id == merchant_id, Membership.accepted_at.is_not(None),
               Membership.role.in_((Role.MERCHANT_OWNER, Role.STORE_MANAGER)))
        .order_by(Membership.user_id)).all()
    owners = {user_id for user_id, role, _store in members if role is Role.MERCHANT_OWNER}
    managed = {}
    for user_id, role, store_id in members:
        if role is Role.STORE_MANAGER and user_id not in owners and store_id is not None:
            managed.setdefault(user_id, set()).add(store_id)
    every = [alert_id for alert_id, _store in alerts]
    found = {user_id: every for user_id in sorted(owners)}
    for user_id, stores in sorted(managed.items()):
        theirs = [alert_id for alert_id, store_id in alerts if store_id in stores]
        if theirs:
            found[user_id] = theirs
    return found


def _reviews_alerts(user_id, merchant_id):
    return db.session.scalar(
        select(Membership.id).where(
            Membership.user_id == user_id, Membership.merchant_id == merchant_id,
            Membership.accepted_at.is_not(None),
            Membership.role.in_((Role.MERCHANT_OWNER, Role.STORE_MANAGER))).limit(1)) is not None


def digest_morning(merchant_id, now=None):
    """One merchant's digest step: the emails queued (0 when nothing is new, or when today's
    digest went already)."""
    now = now or clock.now()
    timezone = db.session.scalar(select(Merchant.timezone).where(Merchant.id == merchant_id))
    if timezone is None:
        return 0
    A = FraudAlert
    with write_transaction():
        today = clock.local_day_start(now, timezone)
        if db.session.scalar(select(A.id).where(A.merchant_id == merchant_id,
                                                A.digested_at >= today).limit(1)):
            return 0  # once a day: what came since waits for tomorrow's
        found = db.session.execute(
            select(A.id, A.store_id, A.reviewed_at)
            .where(A.merchant_id == merchant_id, A.digested_at.is_(None))
            .order_by(A.id).with_for_update()).all()
        if not found:
            return 0
        db.session.execute(update(A).where(A.id.in_([row.id for row in found]))
                           .values(digested_at=now).execution_options(synchronize_session=False))
        # Those reviewed already (before any digest named them) need no one's attention.
        alerts = [(row.id, row.store_id) for row in found if row.reviewed_at is None]
        payloads = [{"user_id": user_id, "alert_ids": ids[-LISTED:], "count": len(ids)}
                    for user_id, ids in _recipients(merchant_id, alerts).items()]
        if payloads:
            mail.queue_emails(TEMPLATE, payloads, merchant_id=merchant_id)
    return len(payloads)


def _listed(alerts, names, timezone):
    rows = []
    for alert in alerts:
        local = alert.created_at.astimezone(ZoneInfo(timezone))
        person = names.person(alert)
        rows.append({"rule": fraud_alerts.rule_label(alert.rule), "store": names.store(alert),
                     "person": person, "day": local.date(), "time": local.time(),
                     "observed": alert.observed, "threshold": alert.threshold})
    return rows


def digest_letter(payload):
    """The digest as sent: the alerts it names that still exist (none left: no email)."""
    user = db.session.get(User, payload["user_id"])
    if user is None or user.is_deleted or not user.email:
        return None
    alerts = db.session.scalars(select(FraudAlert).where(
        FraudAlert.id.in_(payload.get("alert_ids") or [])).order_by(FraudAlert.id.desc())).all()
    if not alerts:
        return None
    merchant = db.session.get(Merchant, alerts[0].merchant_id)
    if not _reviews_alerts(user.id, merchant.id):  # left the team, or no longer manages
        return None
    count = max(payload.get("count") or 0, len(alerts))
    return mail.Letter(
        to=user.email, locale=user.preferred_locale or merchant.default_locale,
        subject=lazy_ngettext("%(num)d new fraud alert at %(shop)s",
                              "%(num)d new fraud alerts at %(shop)s", count, shop=merchant.name),
        context={"name": user.name, "shop": merchant.name, "country": merchant.country,
                 "count": count, "more": count - len(alerts),
                 "alerts": _listed(alerts, fraud_alerts.names_of(alerts), merchant.timezone),
                 "link": external_url("merchant.alerts"), "color": mail.brand_color(merchant.id)})
