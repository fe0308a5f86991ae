"""Soft delete: hidden by default, visible on request, cascades and restores as one batch."""
import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import Customer, Membership, Merchant, Store, User
from loyalty.services.errors import Conflict
from loyalty.services.platform import accounts
from tests import factories


def _fresh():
    db.session.commit()
    db.session.expunge_all()  # as a new request would: nothing cached


def test_deleted_rows_are_invisible_by_default_and_visible_on_request(merchant):
    store_id, kept_id, owner_id, merchant_id = (
        merchant.stores[0].id, merchant.stores[1].id, merchant.owner.id, merchant.id
    )
    accounts.delete_record(merchant.stores[0], by=merchant.owner)
    _fresh()

    assert db.session.get(Store, store_id) is None
    assert store_id not in db.session.scalars(select(Store.id)).all()
    assert [s.id for s in db.session.get(Merchant, merchant_id).stores] == [kept_id]

    visible = db.session.scalars(
        select(Store).execution_options(include_deleted=True).where(Store.id == store_id)
    ).one()
    assert visible.deleted_at is not None
    assert visible.deleted_by_id == owner_id


def _live(model, merchant_id):
    return db.session.scalars(select(model).where(model.merchant_id == merchant_id)).all()


def test_merchant_delete_cascades_to_stores_memberships_and_customers(merchant, other_merchant):
    merchant_id, other_id = merchant.id, other_merchant.id
    accounts.delete_record(merchant.merchant, by=other_merchant.owner)
    _fresh()

    assert db.session.get(Merchant, merchant_id) is None
    for model in (Store, Membership, Customer):
        assert _live(model, merchant_id) == []
        hidden = db.session.scalars(
            select(model).execution_options(include_deleted=True).where(model.merchant_id == merchant_id)
        ).all()
        assert hidden and all(row.deleted_at is not None for row in hidden)
    # The other merchant is untouched.
    assert len(_live(Store, other_id)) == 2


def test_restore_undoes_its_own_cascade_but_not_earlier_deletions(merchant):
    merchant_id, open_id, closed_id = merchant.id, merchant.stores[0].id, merchant.stores[1].id
    accounts.delete_record(merchant.stores[1])
    accounts.delete_record(merchant.merchant)
    _fresh()

    deleted = db.session.scalars(
        select(Merchant).execution_options(include_deleted=True).where(Merchant.id == merchant_id)
    ).one()
    accounts.restore_record(deleted)
    _fresh()

    assert db.session.get(Merchant, merchant_id) is not None
    assert [s.id for s in _live(Store, merchant_id)] == [open_id]
    assert db.session.get(Store, closed_id) is None  # deleted on its own before: stays deleted
    assert len(_live(Membership, merchant_id)) == 3
    assert len(_live(Customer, merchant_id)) == 1


def test_deleted_users_email_can_register_again_but_a_live_duplicate_is_refused(app):
    first = factories.user(email="sam@example.com")
    with pytest.raises(Conflict) as refused:
        factories.user(email="SAM@example.com ")
    assert str(refused.value.message) == "An account with this email already exists."

    accounts.delete_record(first)
    again = factories.user(email="sam@example.com")
    assert again.id != first.id
    everyone = db.session.scalars(
        select(User).execution_options(include_deleted=True).where(User.email == "sam@example.com")
    ).all()
    assert len(everyone) == 2


def test_restoring_a_record_whose_email_was_taken_again_is_refused_with_a_message(app):
    first = factories.user(email="kim@example.com")
    accounts.delete_record(first)
    factories.user(email="kim@example.com")
    with pytest.raises(Conflict) as refused:
        accounts.restore_record(first)
    assert "same email" in str(refused.value.message)


def test_store_code_is_unique_among_live_stores_of_a_merchant(merchant, other_merchant):
    with pytest.raises(Conflict):
        accounts.create_store(merchant.merchant, "Copy", "s1")
    accounts.create_store(other_merchant.merchant, "Same code elsewhere", "S9")
    accounts.create_store(merchant.merchant, "Same code elsewhere", "S9")
    accounts.delete_record(merchant.stores[0])
    assert accounts.create_store(merchant.merchant, "Reopened", "S1").code == "S1"


def test_customer_email_is_unique_per_merchant_among_live_customers(merchant, other_merchant):
    email = merchant.customers[0].email
    with pytest.raises(Conflict):
        factories.customer(merchant.merchant, email=email)
    factories.customer(other_merchant.merchant, email=email)
    accounts.delete_record(merchant.customers[0])
    assert factories.customer(merchant.merchant, email=email).email == email
