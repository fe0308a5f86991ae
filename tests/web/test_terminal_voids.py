"""Who may void or undo a row older than the void window at the counter: whoever confirms it,
by their role at this store. A typed PIN speaks for its holder (a manager PIN at any age);
without one, the signed-in person does (the owner anywhere, a manager only at their stores)."""
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import LoyaltyTransaction, Reward, Role, TransactionType
from loyalty.services.engine import staff_pins
from loyalty.services.platform import accounts
from tests import factories

HTMX = {"HX-Request": "true"}


def _purchases():
    return db.session.scalars(select(LoyaltyTransaction.id).where(
        LoyaltyTransaction.transaction_type == TransactionType.POINTS_EARNED)
        .order_by(LoyaltyTransaction.id)).all()


def _voids():
    return db.session.scalars(select(LoyaltyTransaction.related_transaction_id).where(
        LoyaltyTransaction.transaction_type == TransactionType.POINTS_VOIDED)).all()


def _card(merchant, **program):
    factories.points_program(merchant.merchant, **program)
    return factories.card(merchant.merchant, "Pia Points", email="pia@example.com")


def _choose_store(tablet, store):
    tablet.client.post("/terminal/store", data={"store_id": store.id, "csrf_token": tablet.token})
    return tablet


def test_a_staff_pin_on_an_owners_tablet_voids_only_within_the_window(
        terminal, merchant, frozen_clock):
    card = _card(merchant, require_staff_pin=True)
    store = merchant.stores[0]
    tom = staff_pins.create_staff_pin(merchant.merchant, store, "Tom", "2468")
    lisa = staff_pins.create_staff_pin(merchant.merchant, store, "Lisa", "1357")
    staff_pins.update_staff_pin(lisa, "Lisa", can_unlock=True)
    tom_pin = {"pin": "2468", "staff_pin_id": tom.id}
    owner = terminal.sign_in(merchant.owner, store)
    owner.act(card.id, "earn", amount="10.00", **tom_pin)
    owner.act(card.id, "earn", amount="20.00", **tom_pin)
    old, recent = _purchases()
    frozen_clock.advance(days=15)
    owner = terminal.sign_in(merchant.owner, store)  # the old session went idle long ago
    owner.act(card.id, "earn", amount="5.00", **tom_pin)
    recent = _purchases()[-1]

    refused = owner.act(card.id, "void", transaction_id=old, amount="10", **tom_pin)
    assert refused.status_code == 409
    assert "This was more than 14 days ago: only a manager PIN can confirm it." in refused.text
    assert owner.act(card.id, "void", transaction_id=recent, amount="5", **tom_pin).status_code == 200
    by_manager = owner.act(card.id, "void", transaction_id=old, amount="10", pin="1357",
                           staff_pin_id=lisa.id)
    assert by_manager.status_code == 200
    assert sorted(_voids()) == sorted([old, recent])


def test_a_manager_of_one_store_is_staff_at_another(terminal, merchant, frozen_clock):
    card = _card(merchant)  # no PIN: the signed-in person confirms
    managed, other = merchant.stores
    accounts.add_member(merchant.manager, merchant.merchant, Role.STORE_STAFF, store=other)
    tablet = terminal.sign_in(merchant.manager, other)
    tablet.act(card.id, "earn", amount="10.00")
    frozen_clock.advance(days=15)
    tablet = terminal.sign_in(merchant.manager, other)
    old = _purchases()[0]

    panel = tablet.client.get(f"/terminal/cards/{card.id}", headers=HTMX)
    assert "Over 14 days old: a manager can void it" in panel.text
    refused = tablet.act(card.id, "void", transaction_id=old, amount="10")
    assert refused.status_code == 409
    assert "This was more than 14 days ago: a manager or owner can void it." in refused.text
    assert _voids() == []

    tablet = _choose_store(tablet, managed)
    panel = tablet.client.get(f"/terminal/cards/{card.id}", headers=HTMX)
    assert "Over 14 days old" not in panel.text
    assert tablet.act(card.id, "void", transaction_id=old, amount="10").status_code == 200
    assert _voids() == [old]


def test_the_unlock_sheet_offers_a_managers_own_email_only_at_their_stores(terminal, merchant):
    card = _card(merchant, require_staff_pin=True)
    managed, other = merchant.stores
    accounts.add_member(merchant.manager, merchant.merchant, Role.STORE_STAFF, store=other)
    pins = {store.id: staff_pins.create_staff_pin(merchant.merchant, store, "Tom", "2468")
            for store in (managed, other)}
    tablet = terminal.sign_in(merchant.manager, other)
    email = f'value="{merchant.manager.email}"'

    def unlock_sheet(store):
        return tablet.client.get(f"/terminal/cards/{card.id}/unlock/{pins[store.id].id}?kind=earn",
                                 headers=HTMX).text

    assert email not in unlock_sheet(other)  # here their password cannot unlock a PIN
    _choose_store(tablet, managed)
    assert email in unlock_sheet(managed)


def test_the_void_sheet_says_what_a_spent_balance_records_as_a_shortfall(terminal, merchant):
    card = _card(merchant)
    tablet = terminal.sign_in(merchant.owner, merchant.stores[0])
    tablet.act(card.id, "earn", amount="12.50")  # 125 points
    purchase = _purchases()[-1]
    croissant = db.session.scalar(select(Reward.id).where(Reward.name == "Croissant"))
    assert tablet.act(card.id, "redeem", reward_id=croissant).status_code == 200  # 50 spent
    sheet = tablet.sheet(card.id, "void", transaction_id=purchase).text
    assert "At most 125." in sheet
    assert ("The card holds only 75 now: it was spent since. At most 75 come off the card; "
            "anything voided above that is recorded as a shortfall.") in sheet
    assert "Voiding all 125: 75 off the card, 50 recorded as a shortfall." in sheet
    voided = tablet.act(card.id, "void", transaction_id=purchase, amount="125")
    assert voided.status_code == 200
    row = db.session.scalar(select(LoyaltyTransaction).where(
        LoyaltyTransaction.transaction_type == TransactionType.POINTS_VOIDED))
    assert (row.points_delta, row.void_shortfall) == (-75, 50)  # as the sheet said


def test_the_void_sheet_mentions_no_shortfall_when_the_balance_covers_it(terminal, merchant):
    card = _card(merchant)
    tablet = terminal.sign_in(merchant.owner, merchant.stores[0])
    tablet.act(card.id, "earn", amount="2.00")
    sheet = tablet.sheet(card.id, "void", transaction_id=_purchases()[-1]).text
    assert "At most 20." in sheet and "shortfall" not in sheet
