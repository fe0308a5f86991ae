"""Consent to offers by email: recorded with its time and source, kept in the audit trail,
and the SQL condition the senders use agrees with the customer's own answer."""
from datetime import timedelta

from sqlalchemy import select

from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import AuditEntry, Customer
from loyalty.models.base import soft_delete
from loyalty.services.customers import my_data
from loyalty.services.delivery import marketing
from tests import factories


def _consenting_ids():
    return set(db.session.scalars(select(Customer.id).where(marketing.consenting())))


def _say(customer, given, source="card_page"):
    with write_transaction():
        customer = db.session.get(Customer, customer.id)
        return marketing.record_consent(customer, given, source=source)


def test_yes_then_no_then_yes_again_with_times_sources_and_a_history(app, merchant,
                                                                    frozen_clock):
    factories.stamp_program(merchant.merchant)
    card = factories.card(merchant.merchant)
    customer = db.session.get(Customer, card.customer_id)
    assert not customer.marketing_consent and customer.id not in _consenting_ids()

    assert _say(customer, True, "join")
    assert customer.marketing_consent_at == frozen_clock.now
    assert customer.marketing_consent and customer.id in _consenting_ids()
    assert not _say(customer, True)  # saying it again changes nothing

    frozen_clock.advance(days=3)
    assert _say(customer, False, "unsubscribe")
    assert customer.marketing_unsubscribed_at == frozen_clock.now
    assert customer.marketing_consent_at == frozen_clock.now - timedelta(days=3)
    assert not customer.marketing_consent and customer.id not in _consenting_ids()
    assert customer.marketing_consent_source == "unsubscribe"

    frozen_clock.advance(days=1)
    assert _say(customer, True, "card_page")
    assert customer.marketing_consent and customer.id in _consenting_ids()

    history = db.session.execute(
        select(AuditEntry.changes, AuditEntry.target_label, AuditEntry.created_at)
        .where(AuditEntry.action == "customer.marketing_consent",
               AuditEntry.target_id == customer.id).order_by(AuditEntry.id)).all()
    assert [row.changes["marketing_consent"] for row in history] == [
        [False, True], [True, False], [False, True]]
    assert {row.target_label for row in history} == {card.card_number}


def test_the_default_is_no_and_an_erased_or_addressless_customer_never_consents(app, merchant):
    factories.stamp_program(merchant.merchant)
    card = factories.card(merchant.merchant)
    by_phone = factories.card(merchant.merchant, "Phone Only", phone="+352621123456")
    for one in (card, by_phone):
        _say(db.session.get(Customer, one.customer_id), True)
    assert _consenting_ids() == {card.customer_id}  # no email: no offers by email

    my_data.erase(card)
    customer = db.session.get(Customer, card.customer_id, populate_existing=True)
    assert not customer.marketing_consent and _consenting_ids() == set()


def test_a_deleted_customer_consents_neither_by_the_property_nor_by_the_sql(app, merchant):
    factories.stamp_program(merchant.merchant)
    card = factories.card(merchant.merchant)
    _say(db.session.get(Customer, card.customer_id), True)
    with write_transaction():
        customer = db.session.get(Customer, card.customer_id)
        assert customer.marketing_consent
        soft_delete(customer)
    customer = db.session.scalar(select(Customer).where(Customer.id == card.customer_id)
                                 .execution_options(include_deleted=True))
    assert customer.deleted_at is not None and not customer.marketing_consent
    assert db.session.scalars(select(Customer.id).where(marketing.consenting()).execution_options(
        include_deleted=True)).all() == []


def test_the_export_of_my_data_says_my_choice_and_when(app, merchant, frozen_clock):
    factories.stamp_program(merchant.merchant)
    card = factories.card(merchant.merchant)
    _say(db.session.get(Customer, card.customer_id), True)
    offers = my_data.export(card)["customer"]["offers_by_email"]
    assert offers == {"consent": True, "consent_at": frozen_clock.now.isoformat(),
                      "unsubscribed_at": None}
