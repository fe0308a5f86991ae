"""Pruning: what is old enough goes (or is emptied), what is recent or still open stays, and the
ledger and the audit log are never touched; in batches."""
from sqlalchemy import event, func, select

from loyalty import clock
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.jobs import SCHEDULE
from loyalty.models import (
    AuditEntry,
    LoyaltyTransaction,
    OutboxMessage,
    PasswordToken,
    SentEmail,
    User,
    UserSession,
    WebhookDelivery,
    WebhookEndpoint,
)
from loyalty.services import audit
from loyalty.services.audit import Actor
from loyalty.services.merchant import team
from loyalty.services.platform import pruning, sessions
from tests import factories
from tests.conftest import run_cli


def count(model):
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(model))


def wallet_row(**times):
    row = OutboxMessage(kind="wallet", queue="wallet", payload={"card_id": 1}, **times)
    db.session.add(row)
    db.session.commit()
    return row.id


def delivery(endpoint, status):
    now = clock.now()
    row = WebhookDelivery(merchant_id=endpoint.merchant_id, endpoint_id=endpoint.id,
                          event_type="points.earned", message_id=f"msg_{status}_{now:%j}",
                          payload={"type": "points.earned"}, created_at=now, status=status,
                          next_attempt_at=now)
    db.session.add(row)
    db.session.commit()
    return row.id


def recent_email_user(email):
    return db.session.scalar(select(User.id).where(User.email == email.to_address))


def ids(model):
    db.session.commit()
    return set(db.session.scalars(select(model.id)))


def test_old_rows_go_recent_and_open_ones_stay_and_the_record_is_never_touched(
        app, merchant, frozen_clock, auth, client):
    factories.points_program(merchant.merchant, welcome_bonus_points=40)
    factories.card(merchant.merchant, "Old Olga", email="olga@example.com")
    team.invite(merchant.merchant, email="zoe@example.com", name="Zoé", role="store_staff",
                store=merchant.stores[0])
    [old_email] = db.session.scalars(select(SentEmail)).all()
    with write_transaction():
        audit.record(Actor(user_id=merchant.owner.id), "store.update", merchant.stores[0],
                     merchant_id=merchant.id, changes={"name": ["Old", "New"]})
    old_wallet = wallet_row(delivered_at=clock.now())
    old_failed = wallet_row(failed_at=clock.now(), last_error="refused")
    old_open = wallet_row()
    sessions.end_session(db.session.scalar(select(UserSession.id).where(
        UserSession.token_hash == sessions._digest(sessions.start_session(merchant.owner)))))
    endpoint = WebhookEndpoint(merchant_id=merchant.id, url="https://example.com/hook",
                               events="points.earned", secret_encrypted="x",
                               secret_prefix="whsec_x")
    db.session.add(endpoint)
    db.session.commit()
    old_delivered, old_failed_delivery = delivery(endpoint, "delivered"), delivery(endpoint,
                                                                                    "failed")
    old_pending = delivery(endpoint, "pending")

    frozen_clock.advance(days=40)
    recent_wallet = wallet_row(delivered_at=clock.now())
    recent_delivery = delivery(endpoint, "delivered")
    sessions.start_session(merchant.staff)
    team.invite(merchant.merchant, email="yan@example.com", name="Yan", role="store_staff",
                store=merchant.stores[0])
    recent_email = db.session.scalar(select(SentEmail).where(SentEmail.id != old_email.id))
    ledger_rows, audit_rows = count(LoyaltyTransaction), count(AuditEntry)
    assert ledger_rows and audit_rows

    result = pruning.prune_all()

    assert result == {"outbox_deleted": 1, "outbox_emptied": 1, "email_bodies": 1,
                      "sessions": 1, "links": 1, "webhook_deliveries": 2,
                      "retention_snapshots": 0}
    assert ids(OutboxMessage) == {old_email.outbox_id, old_failed, old_open, recent_wallet,
                                  recent_email.outbox_id}
    assert db.session.get(OutboxMessage, recent_email.outbox_id).payload["template"]
    assert "Hello Yan," in db.session.scalar(select(SentEmail.body_text).where(
        SentEmail.id == recent_email.id))
    assert [user_id for (user_id,) in db.session.execute(select(PasswordToken.user_id))] == [
        recent_email_user(recent_email)]
    email_row = db.session.get(OutboxMessage, old_email.outbox_id)
    assert email_row.payload == {} and email_row.delivered_at is not None
    db.session.refresh(old_email)
    assert (old_email.to_address, old_email.subject) == ("zoe@example.com",
                                                         "You're invited to join Café Test")
    assert old_email.body_text is None and old_email.body_html is None
    assert [user_id for (user_id,) in db.session.execute(select(UserSession.user_id))] == [
        merchant.staff.id]
    assert old_wallet not in ids(OutboxMessage)
    assert ids(WebhookDelivery) == {old_pending, recent_delivery}
    assert (count(LoyaltyTransaction), count(AuditEntry)) == (ledger_rows, audit_rows)
    assert {old_delivered, old_failed_delivery}.isdisjoint(ids(WebhookDelivery))

    # Run again: nothing more to do. The admin reading the old email is told why it is empty.
    assert set(pruning.prune_all().values()) == {0}
    auth.login_as(factories.user("Ada Admin", admin=True))
    page = client.get(f"/admin/emails/{old_email.id}").get_data(as_text=True)
    assert "Its text was removed: emails' texts are kept 30 days." in page


def test_the_ages_come_from_the_settings(make_app, frozen_clock):
    app = make_app(PRUNE_OUTBOX_DAYS=50)
    with app.app_context():
        wallet_row(delivered_at=clock.now())
        frozen_clock.advance(days=40)
        assert pruning.prune_outbox(clock.now()) == (0, 0)
        frozen_clock.advance(days=11)
        assert pruning.prune_outbox(clock.now()) == (1, 0)
        db.session.remove()


def test_rows_go_in_batches_one_short_statement_each(app, frozen_clock):
    for _ in range(5):
        wallet_row(delivered_at=clock.now())
    frozen_clock.advance(days=8)
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("DELETE FROM OUTBOX"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert pruning.prune_outbox(clock.now(), batch_size=2) == (5, 0)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert len(statements) == 3  # 2 + 2 + 1
    assert count(OutboxMessage) == 0


def test_the_schedule_prunes_daily_and_the_cli_prunes_now(app, frozen_clock):
    [(every, about)] = [(every, about) for name, _f, _q, every, about in SCHEDULE
                        if name == "prune"]
    assert every == "53 2 * * *" and "PRUNE_" in about
    wallet_row(delivered_at=clock.now())
    frozen_clock.advance(days=8)
    result = run_cli(app, "loyalty", "prune")
    assert result.exit_code == 0 and "outbox_deleted: 1" in result.output
    assert count(OutboxMessage) == 0
