"""My data, from the customer's card page: everything held about them as JSON, and the
erasure of their card (anonymised, closed, audited, ledger still balanced)."""
import json

import pytest
from sqlalchemy import select

from loyalty import database
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import (
    AuditEntry,
    Customer,
    LoyaltyCard,
    LoyaltyTransaction,
    OutboxMessage,
    SentEmail,
)
from loyalty.services import outbox
from loyalty.services.audit import Actor
from loyalty.services.customers import enrollment
from loyalty.services.delivery import mail
from loyalty.services.engine.adjustments import adjust_points
from loyalty.services.engine.cards import card_by_qr_token, deactivate_card, reactivate_card
from loyalty.services.engine.ledger import ActionContext, ledger_drift
from loyalty.services.engine.points import earn_points
from loyalty.services.engine.stamps import add_stamp
from loyalty.services.engine.voids import void_points
from loyalty.services.errors import CardNotFound, Refused
from tests import factories
from tests.conftest import csrf_token_from, run_cli


def _card_with_history(merchant):
    factories.points_program(merchant.merchant, welcome_bonus_points=40)
    card = factories.card(merchant.merchant, "Carla Client", email="carla@example.com",
                          phone="+352621123456")
    earn_points(card, 1250, context=ActionContext(store_id=merchant.stores[0].id))
    with write_transaction():
        mail.queue_email("card_link", merchant_id=card.merchant_id, card_id=card.id)
    db.session.commit()
    return card


def test_the_export_holds_the_customer_the_card_its_history_and_emails(client, merchant):
    card = _card_with_history(merchant)
    response = client.get(f"/card/{card.page_secret}/my-data.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert f'filename="card-{card.card_number}.json"' in response.headers["Content-Disposition"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    data = json.loads(response.get_data(as_text=True))
    assert data["shop"] == "Café Test"
    assert data["customer"]["name"] == "Carla Client"
    assert data["customer"]["email"] == "carla@example.com"
    assert data["customer"]["phone"] == "+352621123456"
    assert data["card"]["card_number"] == card.card_number and data["card"]["points"] == 165
    assert [row["type"] for row in data["history"]] == ["card_created", "welcome_bonus",
                                                        "points_earned"]
    assert data["history"][2]["purchase_amount_cents"] == 1250
    assert data["history"][2]["store"] == "Café Test store 1"
    assert [email["to"] for email in data["emails"]] == ["carla@example.com"]
    assert "qr_token" not in json.dumps(data) and card.qr_token not in json.dumps(data)
    assert client.get("/card/" + "x" * 43 + "/my-data.json").status_code == 404


def test_the_card_page_offers_both(client, merchant):
    card = _card_with_history(merchant)
    page = client.get(f"/card/{card.page_secret}").get_data(as_text=True)
    assert f"/card/{card.page_secret}/my-data.json" in page
    assert f"/card/{card.page_secret}/delete" in page


def test_deleting_asks_for_confirmation_first(client, merchant):
    card = _card_with_history(merchant)
    page = client.get(f"/card/{card.page_secret}/delete").get_data(as_text=True)
    assert "This cannot be undone." in page and "your 165 points are lost" in page
    token = csrf_token_from(client.get(f"/card/{card.page_secret}/delete"))
    response = client.post(f"/card/{card.page_secret}/delete", data={"csrf_token": token})
    assert response.status_code == 422
    assert "Tick the box to confirm" in response.get_data(as_text=True)
    db.session.commit()
    assert db.session.get(Customer, card.customer_id).email == "carla@example.com"
    no_token = client.post(f"/card/{card.page_secret}/delete", data={"confirm": "y"})
    assert no_token.status_code == 400
    assert db.session.get(Customer, card.customer_id).erased_at is None


def test_erasure_anonymises_closes_audits_and_keeps_the_ledger_balanced(app, client, merchant):
    card = _card_with_history(merchant)
    old_secret, old_token, card_id = card.page_secret, card.qr_token, card.id
    rows_before = db.session.query(LoyaltyTransaction).filter_by(card_id=card_id).count()
    token = csrf_token_from(client.get(f"/card/{old_secret}/delete"))
    response = client.post(f"/card/{old_secret}/delete", data={"csrf_token": token, "confirm": "y"})
    assert response.status_code == 302 and response.location.endswith("/m/cafe-test/deleted")
    assert "Your card has been deleted" in client.get(response.location).get_data(as_text=True)

    db.session.commit()
    customer = db.session.get(Customer, card.customer_id, populate_existing=True)
    assert (customer.name, customer.email, customer.phone) == ("", None, None)
    assert customer.search_name == "" and customer.erased_at is not None
    card = db.session.get(LoyaltyCard, card_id, populate_existing=True)
    assert not card.is_active and (card.points_balance, card.stamp_count) == (0, 0)
    assert card.page_secret != old_secret and card.qr_token != old_token
    assert client.get(f"/card/{old_secret}").status_code == 404
    assert client.get(f"/card/{old_secret}/my-data.json").status_code == 404

    rows = db.session.scalars(select(LoyaltyTransaction).where(
        LoyaltyTransaction.card_id == card_id).order_by(LoyaltyTransaction.id)).all()
    assert len(rows) == rows_before + 2  # the points forfeited, the card closed
    assert [r.transaction_type for r in rows[-2:]] == ["points_adjusted", "card_deactivated"]
    assert ledger_drift() == []
    check = run_cli(app, "loyalty", "check-ledger")
    assert check.exit_code == 0 and "Ledger OK" in check.output
    [email] = db.session.scalars(select(SentEmail)).all()
    assert (email.to_address, email.body_text, email.body_html) == ("", None, None)
    [entry] = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "customer.erase")).all()
    assert entry.actor_id is None and entry.target_label == card.card_number
    assert entry.ip_address is None  # the customer's address is personal data too
    assert "Carla" not in json.dumps(entry.changes)


def test_the_owner_sees_a_deleted_customer_without_their_name(client, auth, merchant):
    card = _card_with_history(merchant)
    token = csrf_token_from(client.get(f"/card/{card.page_secret}/delete"))
    client.post(f"/card/{card.page_secret}/delete", data={"csrf_token": token, "confirm": "y"})
    auth.login_as(merchant.owner)
    page = client.get(f"/merchant/cards/{card.id}").get_data(as_text=True)
    assert "Deleted customer" in page and "Carla" not in page
    activity = client.get("/merchant/activity").get_data(as_text=True)
    assert "deleted their card and data" in activity


def _erase(client, card):
    token = csrf_token_from(client.get(f"/card/{card.page_secret}/delete"))
    return client.post(f"/card/{card.page_secret}/delete",
                       data={"csrf_token": token, "confirm": "y"})


def test_erasing_a_stamp_card_leaves_other_customers_alone(app, client, merchant, counter):
    factories.stamp_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Sam Stamps", email="sam@example.com")
    other = factories.card(merchant.merchant, "Olga Other", email="olga@example.com")
    for each in (card, other):
        add_stamp(each, context=counter)
        with write_transaction():
            mail.queue_email("card_link", merchant_id=each.merchant_id, card_id=each.id)
    db.session.commit()
    old_token, old_secret = card.qr_token, card.page_secret
    assert _erase(client, card).status_code == 302
    db.session.commit()
    rows = db.session.scalars(select(LoyaltyTransaction.transaction_type).where(
        LoyaltyTransaction.card_id == card.id).order_by(LoyaltyTransaction.id)).all()
    assert rows[-2:] == ["stamp_adjusted", "card_deactivated"]
    assert ledger_drift() == []
    kept = db.session.scalars(select(SentEmail.to_address).order_by(SentEmail.id)).all()
    assert kept == ["", "olga@example.com"]
    assert db.session.get(Customer, other.customer_id).name == "Olga Other"
    with pytest.raises(CardNotFound):  # the old QR code finds nothing at the counter
        card_by_qr_token(card.merchant_id, old_token)
    again = client.get(f"/card/{old_secret}/delete")
    assert again.status_code == 404 and "We could not find this card" in again.get_data(as_text=True)


def test_an_email_still_waiting_when_the_customer_erased_is_not_sent(app, client, merchant,
                                                                       monkeypatch):
    factories.points_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Wendy Waiting", email="wendy@example.com")
    with monkeypatch.context() as held:  # not handed over: the email waits in the outbox
        held.setattr(database, "AFTER_COMMIT_HOOKS", [])
        with write_transaction():
            mail.queue_email("card_link", merchant_id=card.merchant_id, card_id=card.id)
        db.session.info.clear()
    db.session.commit()
    assert db.session.scalars(select(SentEmail)).all() == []  # still waiting
    assert _erase(client, card).status_code == 302
    outbox.drain()
    db.session.commit()
    assert db.session.scalars(select(SentEmail)).all() == []


def test_a_link_asked_for_before_the_erasure_forgets_the_address_and_is_not_sent(
        app, client, merchant, monkeypatch):
    factories.points_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Lina Link", email="lina@example.com")
    db.session.commit()
    with monkeypatch.context() as held:  # not handed over: the request waits in the outbox
        held.setattr(database, "AFTER_COMMIT_HOOKS", [])
        enrollment.resend_card_link(merchant.merchant, "lina@example.com")
        db.session.info.clear()
    assert _erase(client, card).status_code == 302
    db.session.commit()
    [row] = db.session.scalars(select(OutboxMessage)).all()
    assert "lina@example.com" not in json.dumps(row.payload)
    outbox.drain()
    db.session.commit()
    assert db.session.scalars(select(SentEmail)).all() == []


def test_staff_cannot_reopen_an_erased_customers_card(client, merchant):
    card = _card_with_history(merchant)
    assert _erase(client, card).status_code == 302
    db.session.commit()
    with pytest.raises(Refused, match="deleted their data"):
        reactivate_card(db.session.get(LoyaltyCard, card.id))


def test_erasure_blanks_what_staff_typed_about_the_card_and_keeps_the_amounts(app, client,
                                                                              merchant):
    card = _card_with_history(merchant)
    other = factories.card(merchant.merchant, "Olga Other", email="olga@example.com")
    owner = Actor(user_id=merchant.owner.id, merchant_id=card.merchant_id)
    context = ActionContext(store_id=merchant.stores[0].id, user_id=merchant.owner.id)
    deactivate_card(card, reason="Carla shouted at Tom", context=context, actor=owner)
    reactivate_card(card, reason="Carla apologised on 0621 123 456", context=context,
                    actor=owner)
    adjust_points(card, 7, reason="Carla's birthday, lives at 3 rue Haute", user=merchant.owner,
                  context=context, actor=owner)
    bought = earn_points(card, 500, context=context).transaction
    void_points(card, bought.id, context=context, notes="Carla returned the shoes")
    adjust_points(other, 3, reason="Olga keeps her reason", user=merchant.owner,
                  context=context, actor=owner)
    db.session.commit()
    T = LoyaltyTransaction
    amounts = select(T.id, T.transaction_type, T.stamps_delta, T.points_delta,
                     T.stamps_balance_after, T.points_balance_after, T.transaction_at)
    before = db.session.execute(amounts.where(T.card_id == card.id).order_by(T.id)).all()

    assert _erase(client, card).status_code == 302
    db.session.commit()
    after = db.session.execute(amounts.where(T.card_id == card.id).order_by(T.id)).all()
    assert after[:len(before)] == before  # the ledger's amounts and times stay
    assert db.session.scalars(select(T.notes).where(T.card_id == card.id,
                                                    T.notes.is_not(None))).all() == []
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    trail = json.dumps([[entry.target_label, entry.changes] for entry in entries])
    for words in ("Carla", "Tom", "0621", "rue Haute", "shoes"):
        assert words not in trail
    adjusted = [entry for entry in entries
                if entry.action == "card.adjust" and entry.target_id == card.id]
    assert [entry.changes for entry in adjusted] == [
        {"points_balance": [165, 172], "reason": [None, None]}]  # the numbers stay
    assert adjusted[0].target_label == card.card_number
    assert "Olga keeps her reason" in trail  # another customer's card is not touched
    assert db.session.scalar(select(T.notes).where(T.card_id == other.id,
                                                   T.notes.is_not(None))) == \
        "Olga keeps her reason"
    assert ledger_drift() == []
    assert run_cli(app, "loyalty", "check-ledger").exit_code == 0
