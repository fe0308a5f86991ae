"""The audit trail: written with the change, never changed or deleted, filtered for owners."""
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from loyalty.extensions import db
from loyalty.models import AuditEntry, AuditImmutable
from loyalty.services import audit
from loyalty.services.audit import Actor
from loyalty.services.errors import InvalidInput
from loyalty.services.merchant import programs, stores
from tests import factories
from tests.conftest import choose_language


@pytest.fixture
def entry(merchant):
    actor = Actor(user_id=merchant.owner.id, ip_address="10.1.2.3", merchant_id=merchant.id)
    stores.add_store(merchant.merchant, name="Kiosk", code="K1", actor=actor)
    return db.session.scalar(select(AuditEntry))


def test_an_entry_names_actor_merchant_target_values_and_address(merchant, entry):
    assert entry.action == "store.create" and entry.actor_id == merchant.owner.id
    assert entry.merchant_id == merchant.id and entry.target_label == "Kiosk"
    assert entry.changes["code"] == [None, "K1"] and entry.ip_address == "10.1.2.3"


def test_the_orm_refuses_to_change_or_delete_an_entry(entry):
    entry.action = "store.delete"
    with pytest.raises(AuditImmutable):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(AuditImmutable):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"])
def test_the_database_refuses_too(entry, statement):
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert db.session.scalar(select(AuditEntry.action)) == "store.create"


def test_a_refused_change_leaves_no_entry(merchant):
    actor = Actor(user_id=merchant.owner.id, merchant_id=merchant.id)
    with pytest.raises(InvalidInput):
        stores.add_store(merchant.merchant, name="", code="K2", actor=actor)
    assert db.session.scalar(select(AuditEntry)) is None


def test_an_entry_is_written_only_inside_the_changes_transaction(merchant):
    with pytest.raises(AssertionError):
        audit.record(Actor(user_id=1), "store.create", merchant.stores[0], merchant_id=merchant.id)


def test_owners_filter_their_trail_by_kind_and_person(auth, client, merchant, other_merchant):
    owner = Actor(user_id=merchant.owner.id, merchant_id=merchant.id)
    manager = Actor(user_id=merchant.manager.id, merchant_id=merchant.id)
    stores.add_store(merchant.merchant, name="Kiosk", code="K1", actor=owner)
    program = factories.points_program(merchant.merchant, rewards=())
    programs.add_reward(program, "Cake", 100, actor=manager)
    stores.add_store(other_merchant.merchant, name="Elsewhere", code="E1",
                     actor=Actor(user_id=other_merchant.owner.id, merchant_id=other_merchant.id))
    auth.login_as(merchant.owner)
    everything = client.get("/merchant/activity").text
    assert "added a store" in everything and "added a reward" in everything
    assert "Elsewhere" not in everything
    stores_only = client.get("/merchant/activity", query_string={"area": "store"}).text
    assert "Kiosk" in stores_only and "Cake" not in stores_only
    assert "Short code" in stores_only and ">code<" not in stores_only  # fields by their labels
    choose_language(client, "de", page="/merchant/activity")
    assert "Kürzel" in client.get("/merchant/activity", query_string={"area": "store"}).text
    by_manager = client.get("/merchant/activity", query_string={"person": merchant.manager.id}).text
    assert "Cake" in by_manager and "Kiosk" not in by_manager


def test_managers_and_staff_cannot_read_the_trail(auth, client, merchant):
    auth.login_as(merchant.manager)
    assert client.get("/merchant/activity").status_code == 403
