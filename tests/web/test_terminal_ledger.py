"""What the counter writes in the ledger: the tablet's address and browser on every row, and
nothing at all for an action the card's program does not have."""
import pytest
from sqlalchemy import func, select

from loyalty.extensions import db
from loyalty.models import LoyaltyTransaction, TransactionType
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.stamps import add_stamp, redeem_stamp_reward
from loyalty.services.errors import Refused
from tests import factories

TABLET = "Mozilla/5.0 (Linux; Android 14; Counter Tab) Chrome/131"


@pytest.fixture
def tablet(terminal, merchant):
    """A tablet with its own address and browser (for its whole session: a signed-in session
    does not move to another browser), signed in by staff."""
    terminal.client.environ_base.update({"REMOTE_ADDR": "192.0.2.44", "HTTP_USER_AGENT": TABLET})
    return terminal


def _rows(card_id):
    db.session.commit()
    return db.session.scalars(select(LoyaltyTransaction).where(
        LoyaltyTransaction.card_id == card_id).order_by(LoyaltyTransaction.id)).all()


def test_every_row_from_the_counter_records_the_tablets_address_and_browser(tablet, merchant):
    factories.hybrid_program(merchant.merchant)
    tablet.sign_in(merchant.staff)
    assert tablet.enroll(name="Ada Address", email="ada@example.com",
                         language="en").status_code == 200
    card_id = db.session.scalar(select(LoyaltyTransaction.card_id).where(
        LoyaltyTransaction.transaction_type == TransactionType.CARD_CREATED))
    assert tablet.act(card_id, "stamp").status_code == 200
    assert tablet.act(card_id, "earn", amount="12.50").status_code == 200
    rows = _rows(card_id)
    assert [row.transaction_type for row in rows] == [
        TransactionType.CARD_CREATED, TransactionType.STAMP_EARNED, TransactionType.POINTS_EARNED]
    assert {(row.ip_address, row.user_agent) for row in rows} == {("192.0.2.44", TABLET)}


def test_a_stamp_on_a_points_only_card_is_refused_and_writes_nothing(tablet, merchant):
    factories.points_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Pia Points", email="pia@example.com")
    before = len(_rows(card.id))
    tablet.sign_in(merchant.staff)
    for kind in ("stamp", "redeem-stamps"):
        refused = tablet.act(card.id, kind)
        assert refused.status_code == 409
        assert "This program does not use stamps." in refused.text
    context = ActionContext(store_id=merchant.stores[0].id)
    for action in (add_stamp, redeem_stamp_reward):  # the service says the same
        with pytest.raises(Refused, match="does not use stamps"):
            action(card, context=context)
    assert len(_rows(card.id)) == before
    assert db.session.get(type(card), card.id).stamp_count == 0
    assert db.session.scalar(select(func.count()).select_from(LoyaltyTransaction).where(
        LoyaltyTransaction.stamps_delta != 0)) == 0
