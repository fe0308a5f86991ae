"""What every request reads about who is signed in: one statement, so what it says holds at
the very next request (a membership or an account removed), with no copy kept anywhere."""
from sqlalchemy import event, update

from loyalty import clock
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import Role, User
from loyalty.services.platform import accounts

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def test_who_is_signed_in_is_read_with_one_statement(auth, client, merchant):
    auth.login_as(merchant.staff)
    assert client.get("/terminal/offline/ping").status_code == 200
    statements = []

    def note(connection, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        answer = client.get("/terminal/offline/ping")
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert answer.status_code == 200 and answer.json["user_id"] == merchant.staff.id
    assert len([s for s in statements if not s.lstrip().upper().startswith(TRANSACTION_CONTROL)]) == 1


def test_a_membership_removed_holds_at_the_next_request(auth, client, merchant, other_merchant):
    """The owner of one shop, on the staff of another too, loses the first at once and keeps
    the second."""
    accounts.add_member(merchant.owner, other_merchant.merchant, Role.STORE_STAFF,
                        store=other_merchant.stores[0])
    auth.login_as(merchant.owner)
    assert client.get("/merchant/").status_code == 200
    accounts.delete_record(merchant.owner.memberships[0], by=merchant.manager)
    assert client.get("/merchant/").status_code == 403
    assert client.get("/terminal/").status_code == 200


def test_an_account_deleted_behind_the_sessions_back_is_signed_out(auth, client, merchant):
    """Even with its sessions left open, a deleted account's next request is not signed in."""
    auth.login_as(merchant.staff)
    assert client.get("/terminal/").status_code == 200
    with write_transaction():
        db.session.execute(update(User).where(User.id == merchant.staff.id)
                           .values(deleted_at=clock.now()))
    answer = client.get("/terminal/")
    assert answer.status_code == 302 and answer.location.startswith("/login")
