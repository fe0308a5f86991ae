"""Tables that would otherwise grow forever, kept to what is still of use.

Once a day (``jobs.pruning``, or ``flask loyalty prune``), each rule below deletes or empties
the rows older than its ``PRUNE_*`` setting (days):

- outbox rows delivered long ago: deleted; an email's row is kept for its ``sent_emails``
  record (they share its id), its payload emptied (the addresses and figures it carried);
- the texts of old emails (``sent_emails``: who, what and when stay);
- sign-in sessions that ended or went idle long ago, and one-time links (password links, card
  hand-offs) long expired or used;
- webhook deliveries delivered or failed long ago (pending ones wait for their retries);
- retention snapshots (``services/merchant/retention_snapshots``) computed over
  ``RETENTION_SNAPSHOT_DAYS`` ago: a page only reads today's.

Each rule works in batches of ``batch_size`` rows, one set-based statement and one short
transaction per batch, so a first run on a large table neither holds a lock for long nor
loses what it did when interrupted. The ledger (``loyalty_transactions``, ``ledger_days``) and
the audit log are the record of what happened: nothing here touches them.
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import Text, cast, delete, exists, or_, select, update

from loyalty import clock
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import (
    CardHandoff,
    OutboxMessage,
    PasswordToken,
    RetentionSnapshot,
    SentEmail,
    UserSession,
    WebhookDelivery,
)

BATCH_SIZE = 1000
RETENTION_SNAPSHOT_DAYS = 2
#: The settings (days), with what they keep; README's configuration table says the same.
SETTINGS = ("PRUNE_OUTBOX_DAYS", "PRUNE_EMAIL_BODY_DAYS", "PRUNE_SESSION_DAYS",
            "PRUNE_WEBHOOK_DELIVERY_DAYS")


def _cutoff(setting, now):
    return now - timedelta(days=current_app.config[setting])


def _in_batches(model, condition, change, batch_size):
    """Apply ``change`` (a statement builder given a WHERE clause) to the rows of ``model``
    matching ``condition``, ``batch_size`` of them per statement and transaction, until none
    is left. ``change`` must make a row stop matching. Returns how many rows."""
    total = 0
    while True:
        batch = select(model.id).where(condition).order_by(model.id).limit(batch_size)
        with write_transaction():
            done = db.session.execute(
                change(model.id.in_(batch.scalar_subquery()))
                .execution_options(synchronize_session=False)).rowcount
        total += done
        if done < batch_size:
            return total


def _deleted(model, condition, batch_size):
    return _in_batches(model, condition, lambda where: delete(model).where(where), batch_size)


def prune_outbox(now, batch_size=BATCH_SIZE):
    """Delivered rows older than ``PRUNE_OUTBOX_DAYS``; open and failed rows stay (an admin
    retries those). Returns ``(deleted, emptied)``."""
    M = OutboxMessage
    old = M.delivered_at < _cutoff("PRUNE_OUTBOX_DAYS", now)
    recorded = exists().where(SentEmail.outbox_id == M.id)
    deleted = _deleted(M, old & ~recorded, batch_size)
    emptied = _in_batches(M, old & recorded & (cast(M.payload, Text) != "{}"),
                          lambda where: update(M).where(where).values(payload={}), batch_size)
    return deleted, emptied


def prune_email_bodies(now, batch_size=BATCH_SIZE):
    """Empty the texts of emails older than ``PRUNE_EMAIL_BODY_DAYS``; the record stays."""
    E = SentEmail
    condition = (E.created_at < _cutoff("PRUNE_EMAIL_BODY_DAYS", now)) & or_(
        E.body_text.is_not(None), E.body_html.is_not(None))
    return _in_batches(E, condition, lambda where: update(E).where(where).values(
        body_text=None, body_html=None), batch_size)


def prune_sessions(now, batch_size=BATCH_SIZE, *, keep_days=None):
    """Sessions that ended or went idle more than ``PRUNE_SESSION_DAYS`` (or ``keep_days``)
    ago, and one-time links expired or used as long ago: the account page and support only
    look at recent ones. Returns how many sessions, and how many links."""
    cutoff = (now - timedelta(days=keep_days) if keep_days is not None
              else _cutoff("PRUNE_SESSION_DAYS", now))
    S, P, H = UserSession, PasswordToken, CardHandoff
    sessions = _deleted(S, or_(S.ended_at < cutoff, S.last_seen_at < cutoff), batch_size)
    links = (_deleted(P, or_(P.expires_at < cutoff, P.used_at < cutoff), batch_size)
             + _deleted(H, or_(H.expires_at < cutoff, H.used_at < cutoff), batch_size))
    return sessions, links


def prune_webhook_deliveries(now, batch_size=BATCH_SIZE):
    """Deliveries delivered or failed more than ``PRUNE_WEBHOOK_DELIVERY_DAYS`` ago."""
    D = WebhookDelivery
    return _deleted(D, (D.status != "pending")
                    & (D.created_at < _cutoff("PRUNE_WEBHOOK_DELIVERY_DAYS", now)), batch_size)


def prune_retention_snapshots(now, batch_size=BATCH_SIZE):
    """Retention snapshots computed more than ``RETENTION_SNAPSHOT_DAYS`` ago."""
    R = RetentionSnapshot
    return _deleted(R, R.computed_at < now - timedelta(days=RETENTION_SNAPSHOT_DAYS),
                    batch_size)


def prune_all(now=None, batch_size=BATCH_SIZE):
    """Every rule above; returns how many rows each deleted or emptied."""
    now = now or clock.now()
    outbox_deleted, outbox_emptied = prune_outbox(now, batch_size)
    sessions, links = prune_sessions(now, batch_size)
    return {
        "outbox_deleted": outbox_deleted,
        "outbox_emptied": outbox_emptied,
        "email_bodies": prune_email_bodies(now, batch_size),
        "sessions": sessions,
        "links": links,
        "webhook_deliveries": prune_webhook_deliveries(now, batch_size),
        "retention_snapshots": prune_retention_snapshots(now, batch_size),
    }
