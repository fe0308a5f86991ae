"""Enrollment, lookups within the acting merchant, adjustments, and the ledger's guarantees."""
import re

import pytest
from sqlalchemy import select, text

from loyalty.extensions import db
from loyalty.models import (
    LedgerImmutable,
    LoyaltyCard,
    LoyaltyTransaction,
    TransactionType,
)
from loyalty.services.engine import cards
from loyalty.services.engine.adjustments import adjust_points, adjust_stamps
from loyalty.services.engine.ledger import ledger_drift
from loyalty.services.errors import (
    CardNotFound,
    Conflict,
    InvalidInput,
    PermissionDenied,
    Refused,
)
from loyalty.services.merchant import programs
from loyalty.services.platform import accounts
from tests import factories
from tests.conftest import run_cli


@pytest.fixture
def program(merchant):
    return factories.hybrid_program(merchant.merchant, welcome_bonus_points=10)


@pytest.fixture
def card(merchant, program):
    return factories.card(merchant.merchant, "Léa Muller", email="lea@example.com",
                          phone="+352 621 123 456", store=merchant.stores[0])


def test_enrollment_issues_a_numbered_card_with_a_secret_token(card, merchant):
    assert re.fullmatch(r"\d{4}-\d{4}-\d{4}", card.card_number)
    assert len(card.qr_token) >= 32
    assert card.enrolled_at_store_id == merchant.stores[0].id
    types = db.session.scalars(
        select(LoyaltyTransaction.transaction_type).where(LoyaltyTransaction.card_id == card.id)
        .order_by(LoyaltyTransaction.id)
    ).all()
    assert types == [TransactionType.CARD_CREATED, TransactionType.WELCOME_BONUS]


def test_a_customer_gets_one_card_per_merchant(merchant, other_merchant, card):
    factories.hybrid_program(other_merchant.merchant)
    with pytest.raises(Conflict) as refused:
        factories.card(merchant.merchant, "Léa again", email="LEA@example.com")
    assert str(refused.value.message) == "This customer already has a card. Look it up instead."
    with pytest.raises(Conflict):
        factories.card(merchant.merchant, "Léa by phone", email="", phone="+352621123456")
    assert factories.card(other_merchant.merchant, "Léa", email="lea@example.com").id != card.id


def test_a_phone_number_is_the_same_whatever_its_spacing(merchant, program):
    accounts.create_customer(merchant.merchant, "Walk-in", email=None, phone="+352 691 22-33-44")
    card = cards.enroll_customer(merchant.merchant, name="Walk-in", phone="+352691223344")
    assert card.customer.phone == "+352691223344"
    with pytest.raises(Conflict):
        cards.enroll_customer(merchant.merchant, name="Walk-in", phone="+352 691 223 344")


def test_enrollment_is_refused_while_the_program_is_inactive(merchant, program):
    programs.deactivate_program(program)
    with pytest.raises(Refused) as refused:
        factories.card(merchant.merchant)
    assert "not active" in str(refused.value.message)


def test_self_enrollment_can_be_turned_off_but_the_counter_still_enrolls(merchant, program):
    programs.update_settings(merchant.id, allow_self_enrollment=False)
    with pytest.raises(Refused, match="Sign-up online is not available"):
        cards.enroll_customer(merchant.merchant, name="Web", email="web@example.com", self_service=True)
    assert cards.enroll_customer(merchant.merchant, name="Desk", email="desk@example.com").id


def test_enrollment_needs_a_name_and_a_way_to_reach_the_customer(merchant, program):
    with pytest.raises(InvalidInput, match="email address or a phone number"):
        cards.enroll_customer(merchant.merchant, name="Nobody")
    with pytest.raises(InvalidInput, match="name"):
        cards.enroll_customer(merchant.merchant, name=" ", email="x@example.com")


@pytest.mark.parametrize("typed", ["{n}", "{plain}", "{spaced}", " {n} "])
def test_card_number_lookup_ignores_dashes_and_spaces(merchant, card, typed):
    plain = card.card_number.replace("-", "")
    query = typed.format(n=card.card_number, plain=plain, spaced=card.card_number.replace("-", " "))
    assert cards.find_card(merchant.id, query).id == card.id


def test_lookup_by_qr_token_email_phone_and_name(merchant, card):
    assert cards.find_card(merchant.id, card.qr_token).id == card.id
    assert [c.id for c in cards.search_cards(merchant.id, "LEA@example.com")] == [card.id]
    assert [c.id for c in cards.search_cards(merchant.id, "+352 621 123 456")] == [card.id]
    assert [c.id for c in cards.search_cards(merchant.id, "muller")] == [card.id]


def test_another_merchants_card_is_not_found_by_any_lookup(merchant, other_merchant, card):
    factories.hybrid_program(other_merchant.merchant)
    theirs = other_merchant.id
    with pytest.raises(CardNotFound) as missing:
        cards.find_card(theirs, card.card_number)
    assert str(missing.value.message) == "No card found. Check the number or search by email or phone."
    with pytest.raises(CardNotFound):
        cards.find_card(theirs, card.qr_token)
    with pytest.raises(CardNotFound):
        cards.card_by_id(theirs, card.id)
    assert cards.search_cards(theirs, "lea@example.com") == []
    assert cards.search_cards(theirs, "Muller") == []


def test_only_the_owner_adjusts_within_bounds_with_a_reason(merchant, card):
    with pytest.raises(PermissionDenied) as denied:
        adjust_points(card, 10, reason="goodwill", user=merchant.staff)
    assert str(denied.value.message) == "Only the owner of this shop can adjust cards."
    with pytest.raises(PermissionDenied):
        adjust_points(card, 10, reason="goodwill", user=merchant.manager)
    with pytest.raises(InvalidInput, match="Give a reason"):
        adjust_points(card, 10, reason=" ", user=merchant.owner)
    with pytest.raises(InvalidInput, match="between 1 and 100,000"):
        adjust_points(card, 100_001, reason="typo", user=merchant.owner)
    with pytest.raises(Refused, match="negative: the card has 10"):
        adjust_points(card, -11, reason="typo", user=merchant.owner)
    result = adjust_points(card, -10, reason="duplicate bonus", user=merchant.owner)
    assert result.card.points_balance == 0
    assert result.transaction.notes == "duplicate bonus"
    assert adjust_stamps(card, 3, reason="paper card", user=merchant.owner).card.stamp_count == 3
    assert ledger_drift() == []


def test_owner_of_another_merchant_cannot_adjust(other_merchant, card):
    with pytest.raises(PermissionDenied):
        adjust_points(card, 10, reason="x", user=other_merchant.owner)


def test_ledger_rows_cannot_be_changed_or_deleted(card):
    row = db.session.scalars(select(LoyaltyTransaction).where(LoyaltyTransaction.card_id == card.id)).first()
    row.notes = "tampered"
    with pytest.raises(LedgerImmutable):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.merge(row))
    with pytest.raises(LedgerImmutable):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("statement", [
    "UPDATE loyalty_transactions SET points_delta = 1000",
    "DELETE FROM loyalty_transactions",
])
def test_the_database_itself_refuses_ledger_changes(card, statement):
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()


def test_check_ledger_command_reports_drift_and_fails(app, card):
    clean = run_cli(app, "loyalty", "check-ledger")
    assert clean.exit_code == 0 and "Ledger OK" in clean.output
    db.session.execute(text("UPDATE loyalty_cards SET points_balance = 999"))
    db.session.commit()
    drift = run_cli(app, "loyalty", "check-ledger")
    assert drift.exit_code == 1
    assert card.card_number in drift.output
    assert "points_balance: card 999 != ledger 10" in drift.output


def test_balances_can_never_go_negative_in_the_database(card):
    with pytest.raises(Exception, match="(?i)check"):
        db.session.execute(text("UPDATE loyalty_cards SET points_balance = -1"))
        db.session.flush()
    db.session.rollback()


def test_deleting_the_program_hides_its_cards_but_keeps_the_ledger(merchant, program, card):
    merchant_id = merchant.id
    programs.delete_program(program, by=merchant.owner)
    db.session.expunge_all()
    assert db.session.scalar(select(LoyaltyCard).where(LoyaltyCard.merchant_id == merchant_id)) is None
    assert db.session.scalars(select(LoyaltyTransaction)).all()
    assert programs.live_program(merchant_id) is None


def test_one_live_program_per_merchant(merchant, program):
    with pytest.raises(Conflict, match="already has a loyalty program"):
        factories.stamp_program(merchant.merchant)
