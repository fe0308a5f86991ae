"""The birthday bonus: which day it comes (days ahead, across months and years, 29 February,
the merchant's time zone), once per card and year however often the morning runs, nothing when
off or for a closed or erased card, and the ledger still adds up."""
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, select

from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import (
    Customer,
    LoyaltyCard,
    LoyaltyTransaction,
    SentEmail,
    TransactionType,
    WebhookDelivery,
)
from loyalty.services.customers import birthdays as customer_birthdays
from loyalty.services.customers import my_data
from loyalty.services.delivery import marketing
from loyalty.services.delivery.birthdays import celebrate_birthdays
from loyalty.services.engine import bonuses, points
from loyalty.services.engine.bonuses import due_birthdays, is_valid_birthday
from loyalty.services.engine.cards import deactivate_card
from loyalty.services.engine.ledger import ActionContext, ledger_drift
from loyalty.services.errors import InvalidInput
from loyalty.services.integrations import webhooks
from loyalty.services.merchant import programs
from tests import factories
from tests.jobs.conftest import CLOSED_PORT_URL


def _bonus_rows(card=None):
    db.session.commit()
    query = select(LoyaltyTransaction).where(
        LoyaltyTransaction.transaction_type == TransactionType.BIRTHDAY_BONUS)
    if card is not None:
        query = query.where(LoyaltyTransaction.card_id == card.id)
    return db.session.scalars(query.order_by(LoyaltyTransaction.id)).all()


def _born(card, day, month, *, offers=False):
    customer_birthdays.change_birthday(card, day, month)
    if offers:
        with write_transaction():
            customer = db.session.get(Customer, card.customer_id)
            marketing.record_consent(customer, True, source="join")
    return card


def _morning(frozen_clock, moment, merchant):
    frozen_clock.set(moment)
    return celebrate_birthdays(merchant.id)


# --- the date math -------------------------------------------------------------------------

def test_the_birthdays_due_run_from_a_few_days_ago_to_days_ahead_with_their_year():
    due = due_birthdays(date(2026, 12, 28), days_ahead=7, catch_up=3)
    assert due[(12, 25)] == 2026 and due[(12, 28)] == 2026
    assert due[(1, 4)] == 2027  # given on 28 December for 4 January: next year's birthday
    assert (1, 5) not in due and (12, 24) not in due
    # a month boundary with no days ahead: the last three days and today (2026 has no
    # 29 February: its birthdays come with the 28th's)
    assert sorted(due_birthdays(date(2026, 3, 2), 0, catch_up=3)) == [
        (2, 27), (2, 28), (2, 29), (3, 1), (3, 2)]


def test_29_february_is_celebrated_on_28_february_in_other_years():
    assert due_birthdays(date(2027, 2, 28), 0, catch_up=0) == {(2, 28): 2027, (2, 29): 2027}
    assert due_birthdays(date(2028, 2, 28), 0, catch_up=0) == {(2, 28): 2028}  # a leap year
    assert due_birthdays(date(2028, 2, 29), 0, catch_up=0) == {(2, 29): 2028}
    assert is_valid_birthday(29, 2) and not is_valid_birthday(30, 2)
    assert not is_valid_birthday(31, 4) and not is_valid_birthday(0, 1)
    assert not is_valid_birthday(1, 13)


@pytest.mark.parametrize(("day", "month", "message"), [
    ("31", "4", "This day does not exist"), ("12", "", "Choose both the day and the month"),
    ("", "5", "Choose both the day and the month"), ("x", "5", "This day does not exist"),
    ("30", "2", "This day does not exist"),
])
def test_a_half_given_or_impossible_birthday_is_refused_with_a_message(day, month, message):
    with pytest.raises(InvalidInput) as refused:
        customer_birthdays.parse_birthday(day, month)
    assert message in str(refused.value.message)


# --- the grant -----------------------------------------------------------------------------

def test_the_bonus_comes_days_ahead_once_per_year_however_often_the_morning_runs(
        merchant, frozen_clock):
    frozen_clock.set(datetime(2026, 1, 5, 10, 0, tzinfo=UTC))
    factories.hybrid_program(merchant.merchant, birthday_bonus_points=50,
                             birthday_bonus_stamps=2, birthday_days_ahead=5)
    nora = _born(factories.card(merchant.merchant, "New Year Nora"), 2, 1)
    mila = factories.card(merchant.merchant, "No Birthday Mila")

    # 27 December (Luxembourg): 2 January is six days ahead, not yet
    assert _morning(frozen_clock, datetime(2026, 12, 27, 4, 0, tzinfo=UTC), merchant.merchant) == 0
    # 28 December: five days ahead, next year's birthday
    assert _morning(frozen_clock, datetime(2026, 12, 28, 4, 0, tzinfo=UTC), merchant.merchant) == 1
    assert _morning(frozen_clock, datetime(2026, 12, 28, 5, 0, tzinfo=UTC), merchant.merchant) == 0
    [row] = _bonus_rows(nora)
    assert (row.points_delta, row.stamps_delta) == (50, 2)
    assert row.idempotency_key == f"birthday-{nora.id}-2026-12-28"
    db.session.refresh(nora)
    assert (nora.points_balance, nora.stamp_count) == (50, 2)
    assert nora.birthday_granted_at == datetime(2026, 12, 28, 4, 0, tzinfo=UTC)
    # the birthday itself and the days after: nothing more that year
    for day in (29, 30, 31):
        assert _morning(frozen_clock, datetime(2026, 12, day, 4, 0, tzinfo=UTC),
                        merchant.merchant) == 0
    assert _morning(frozen_clock, datetime(2027, 1, 2, 4, 0, tzinfo=UTC), merchant.merchant) == 0
    # the next year's
    assert _morning(frozen_clock, datetime(2027, 12, 28, 4, 0, tzinfo=UTC), merchant.merchant) == 1
    assert len(_bonus_rows(nora)) == 2 and _bonus_rows(mila) == []
    assert ledger_drift() == []


def test_a_missed_morning_is_caught_up_and_the_local_date_decides(merchant, frozen_clock):
    frozen_clock.set(datetime(2026, 3, 1, 10, 0, tzinfo=UTC))
    factories.points_program(merchant.merchant, birthday_bonus_points=30)
    tom = _born(factories.card(merchant.merchant, "Tokyo Tom"), 10, 3)
    # 9 March 23:30 UTC is already 10 March in Luxembourg (UTC+1): his birthday there
    assert _morning(frozen_clock, datetime(2026, 3, 9, 23, 30, tzinfo=UTC), merchant.merchant) == 1
    assert len(_bonus_rows(tom)) == 1
    # the worker was down on the day: three days later it still comes
    late = _born(factories.card(merchant.merchant, "Late Lea"), 7, 3)
    assert _morning(frozen_clock, datetime(2026, 3, 9, 23, 30, tzinfo=UTC), merchant.merchant) == 1
    assert len(_bonus_rows(late)) == 1
    # four days after: too late this year
    early = _born(factories.card(merchant.merchant, "Early Eve"), 6, 3)
    assert _morning(frozen_clock, datetime(2026, 3, 9, 23, 30, tzinfo=UTC), merchant.merchant) == 0
    assert _bonus_rows(early) == []


def test_a_birthday_moved_across_new_year_gives_one_bonus_a_year_neither_two_nor_none(
        merchant, frozen_clock):
    frozen_clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    factories.points_program(merchant.merchant, birthday_bonus_points=10)
    dora = _born(factories.card(merchant.merchant, "December Dora"), 30, 12)
    jan = _born(factories.card(merchant.merchant, "January Jan"), 2, 1)
    assert _morning(frozen_clock, datetime(2026, 12, 30, 4, 0, tzinfo=UTC), merchant.merchant) == 1
    customer_birthdays.change_birthday(dora, 2, 1)  # moved to 2 January, three days on
    assert _morning(frozen_clock, datetime(2027, 1, 2, 4, 0, tzinfo=UTC), merchant.merchant) == 1
    assert len(_bonus_rows(dora)) == 1 and len(_bonus_rows(jan)) == 1  # not a second one
    customer_birthdays.change_birthday(jan, 30, 12)  # moved back to the end of the same year
    assert _morning(frozen_clock, datetime(2027, 12, 30, 4, 0, tzinfo=UTC), merchant.merchant) == 1
    assert _morning(frozen_clock, datetime(2028, 1, 2, 4, 0, tzinfo=UTC), merchant.merchant) == 1
    assert len(_bonus_rows(jan)) == 2 and len(_bonus_rows(dora)) == 2  # one a year, not none
    assert ledger_drift() == []


def test_the_gift_is_not_a_visit_and_expiry_leaves_it_for_a_while(merchant, frozen_clock):
    """A birthday bonus does not move the card's last visit, but points expiry leaves the card
    alone for ``GIFT_KEPT_DAYS`` after it: the gift does not vanish the next morning."""
    start = datetime(2026, 4, 1, 10, 0, tzinfo=UTC)
    frozen_clock.set(start)
    factories.points_program(merchant.merchant, birthday_bonus_points=20,
                             points_expiration_days=30)
    quiet = _born(factories.card(merchant.merchant, "Quiet Quinn"), 20, 4)
    points.earn_points(quiet, 500, context=ActionContext())  # 50 points, the last visit
    last_visit = db.session.get(LoyaltyCard, quiet.id).last_activity_at
    assert _morning(frozen_clock, datetime(2026, 4, 20, 4, 0, tzinfo=UTC), merchant.merchant) == 1
    card = db.session.get(LoyaltyCard, quiet.id, populate_existing=True)
    assert (card.points_balance, card.last_activity_at) == (70, last_visit)

    frozen_clock.set(start + timedelta(days=31))  # 30 days without a visit: due, but the gift
    assert points.expire_points() == 0
    frozen_clock.set(datetime(2026, 4, 20, 4, 0, tzinfo=UTC)
                     + timedelta(days=bonuses.GIFT_KEPT_DAYS, hours=1))
    assert points.expire_points() == 1  # then the quiet card's points expire as usual
    card = db.session.get(LoyaltyCard, quiet.id, populate_existing=True)
    assert card.points_balance == 0 and card.points_expired_total == 70
    assert ledger_drift() == []


def test_in_new_york_the_bonus_waits_for_their_own_date(merchant, frozen_clock):
    frozen_clock.set(datetime(2026, 3, 1, 10, 0, tzinfo=UTC))
    merchant.merchant.timezone = "America/New_York"
    db.session.commit()
    factories.points_program(merchant.merchant, birthday_bonus_points=30)
    ned = _born(factories.card(merchant.merchant, "Ned"), 10, 3)
    # 10 March 03:00 UTC is still 9 March in New York
    assert _morning(frozen_clock, datetime(2026, 3, 10, 3, 0, tzinfo=UTC), merchant.merchant) == 0
    assert _morning(frozen_clock, datetime(2026, 3, 10, 9, 0, tzinfo=UTC), merchant.merchant) == 1
    assert len(_bonus_rows(ned)) == 1


def test_a_29_february_birthday_gets_the_bonus_on_28_february_once(merchant, frozen_clock):
    frozen_clock.set(datetime(2027, 2, 1, 10, 0, tzinfo=UTC))
    factories.points_program(merchant.merchant, birthday_bonus_points=29)
    leap = _born(factories.card(merchant.merchant, "Leap Lou"), 29, 2)
    assert _morning(frozen_clock, datetime(2027, 2, 27, 4, 0, tzinfo=UTC), merchant.merchant) == 0
    assert _morning(frozen_clock, datetime(2027, 2, 28, 4, 0, tzinfo=UTC), merchant.merchant) == 1
    assert _morning(frozen_clock, datetime(2027, 3, 1, 4, 0, tzinfo=UTC), merchant.merchant) == 0
    # 2028 has a 29 February: the bonus comes on the day itself
    assert _morning(frozen_clock, datetime(2028, 2, 28, 4, 0, tzinfo=UTC), merchant.merchant) == 0
    assert _morning(frozen_clock, datetime(2028, 2, 29, 4, 0, tzinfo=UTC), merchant.merchant) == 1
    assert [row.idempotency_key for row in _bonus_rows(leap)] == [
        f"birthday-{leap.id}-2027-02-28", f"birthday-{leap.id}-2028-02-29"]


def test_no_bonus_when_it_is_off_or_of_a_kind_the_program_does_not_use(merchant, frozen_clock):
    frozen_clock.set(datetime(2026, 5, 1, 10, 0, tzinfo=UTC))
    program = factories.stamp_program(merchant.merchant)
    card = _born(factories.card(merchant.merchant, "Stamp Sam"), 2, 5)
    assert _morning(frozen_clock, datetime(2026, 5, 2, 4, 0, tzinfo=UTC), merchant.merchant) == 0
    programs.update_program(program, birthday_bonus_points=100)  # a stamp card has no points
    assert _morning(frozen_clock, datetime(2026, 5, 2, 5, 0, tzinfo=UTC), merchant.merchant) == 0
    assert _bonus_rows(card) == []
    programs.update_program(program, birthday_bonus_stamps=1)
    assert _morning(frozen_clock, datetime(2026, 5, 2, 6, 0, tzinfo=UTC), merchant.merchant) == 1
    db.session.refresh(card)
    assert (card.stamp_count, card.points_balance) == (1, 0)


def test_a_closed_or_erased_card_gets_nothing(merchant, frozen_clock):
    frozen_clock.set(datetime(2026, 6, 1, 10, 0, tzinfo=UTC))
    factories.points_program(merchant.merchant, birthday_bonus_points=40)
    closed = _born(factories.card(merchant.merchant, "Closed Cleo"), 10, 6, offers=True)
    erased = _born(factories.card(merchant.merchant, "Erased Ed"), 10, 6, offers=True)
    kept = _born(factories.card(merchant.merchant, "Kept Kim"), 10, 6)
    deactivate_card(closed, reason="lost")
    my_data.erase(erased)
    db.session.refresh(erased)
    assert (erased.customer.birth_day, erased.customer.birth_month) == (None, None)
    assert _morning(frozen_clock, datetime(2026, 6, 10, 4, 0, tzinfo=UTC), merchant.merchant) == 1
    assert [row.card_id for row in _bonus_rows()] == [kept.id]
    assert ledger_drift() == []


def test_the_email_goes_only_to_those_who_consented_to_offers(merchant, frozen_clock):
    frozen_clock.set(datetime(2026, 7, 1, 10, 0, tzinfo=UTC))
    factories.points_program(merchant.merchant, birthday_bonus_points=25)
    yes = _born(factories.card(merchant.merchant, "Yes Yara", email="yara@example.com"), 4, 7,
                offers=True)
    no = _born(factories.card(merchant.merchant, "No Noah", email="noah@example.com"), 4, 7)
    assert _morning(frozen_clock, datetime(2026, 7, 4, 4, 0, tzinfo=UTC), merchant.merchant) == 2
    db.session.commit()
    sent = db.session.scalars(select(SentEmail).where(SentEmail.template == "birthday")).all()
    assert [email.to_address for email in sent] == ["yara@example.com"]
    assert "Happy birthday, Yes Yara!" in sent[0].body_text
    assert "25 points" in sent[0].body_text and "/unsubscribe/" in sent[0].body_text
    db.session.refresh(no)
    assert no.points_balance == 25 and yes.id  # the bonus is everyone's


def _statements_for_birthdays(frozen_clock, cards):
    """Statements of one morning's birthday step for ``cards`` birthdays (half of them with
    consent to offers: their emails are queued too)."""
    frozen_clock.set(datetime(2026, 8, 1, 10, 0, tzinfo=UTC))
    shop = factories.merchant_with_team(f"Shop {cards}", f"shop-{cards}").merchant
    factories.points_program(shop, birthday_bonus_points=5)
    for n in range(cards):
        _born(factories.card(shop, f"Born {n}", email=f"born{n}@example.com"), 8, 8,
              offers=n % 2 == 0)
    frozen_clock.set(datetime(2026, 8, 8, 4, 0, tzinfo=UTC))
    db.session.commit()
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert celebrate_birthdays(shop.id) == cards
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return statements


def test_a_batch_of_cards_costs_the_same_statements_for_2_and_6_cards(make_app, frozen_clock):
    """Set-based: a batch's cards are chosen by one query and granted by one INSERT of the
    ledger rows and one UPDATE of the cards, whatever their number (no statement per card;
    the emails are sent later, by their own jobs: here they stay in the outbox)."""
    app = make_app(JOBS_INLINE=False, REDIS_URL=CLOSED_PORT_URL)
    with app.app_context():
        few, more = (_statements_for_birthdays(frozen_clock, cards) for cards in (2, 6))
        assert len(few) == len(more)
        assert len(_bonus_rows()) == 8 and ledger_drift() == []
    inserts = [sql for sql in more if sql.lstrip().upper().startswith("INSERT INTO LOYALTY_TR")]
    updates = [sql for sql in more if sql.lstrip().upper().startswith("UPDATE LOYALTY_CARDS")]
    assert (len(inserts), len(updates)) == (1, 1)


def test_batches_follow_each_other_until_none_is_due(merchant, frozen_clock, monkeypatch):
    frozen_clock.set(datetime(2026, 8, 1, 10, 0, tzinfo=UTC))
    factories.points_program(merchant.merchant, birthday_bonus_points=5)
    born = [_born(factories.card(merchant.merchant, f"Born {n}"), 8, 8) for n in range(5)]
    monkeypatch.setattr(bonuses, "BATCH", 2)  # three batches
    assert _morning(frozen_clock, datetime(2026, 8, 8, 4, 0, tzinfo=UTC), merchant.merchant) == 5
    assert sorted(row.card_id for row in _bonus_rows()) == sorted(card.id for card in born)
    for card in born:
        db.session.refresh(card)
        assert (card.points_balance, card.points_earned_total) == (5, 5)
    assert ledger_drift() == []


def test_a_till_listening_to_points_earned_hears_of_the_birthday_bonus(merchant, frozen_clock):
    frozen_clock.set(datetime(2026, 8, 1, 10, 0, tzinfo=UTC))
    factories.points_program(merchant.merchant, birthday_bonus_points=15)
    card = _born(factories.card(merchant.merchant, "Hooked Hugo"), 9, 8)
    # Port 9 (discard): nothing listens; the delivery is written and waits.
    webhooks.create_endpoint(merchant.id, url="http://127.0.0.1:9/h", events=["points.earned"])
    assert _morning(frozen_clock, datetime(2026, 8, 9, 4, 0, tzinfo=UTC), merchant.merchant) == 1
    db.session.commit()
    [delivery] = db.session.scalars(select(WebhookDelivery).where(
        WebhookDelivery.card_id == card.id)).all()
    assert delivery.event_type == "points.earned"
    transaction = delivery.payload["data"]["transaction"]
    assert (transaction["type"], transaction["points_delta"]) == ("birthday_bonus", 15)


def test_a_till_hears_a_stamps_only_birthday_bonus_as_stamps_added(merchant, frozen_clock):
    frozen_clock.set(datetime(2026, 8, 1, 10, 0, tzinfo=UTC))
    factories.stamp_program(merchant.merchant, birthday_bonus_stamps=2)
    card = _born(factories.card(merchant.merchant, "Stamped Stan"), 9, 8)
    webhooks.create_endpoint(merchant.id, url="http://127.0.0.1:9/h",
                             events=["points.earned", "stamps.added"])
    assert _morning(frozen_clock, datetime(2026, 8, 9, 4, 0, tzinfo=UTC), merchant.merchant) == 1
    db.session.commit()
    [delivery] = db.session.scalars(select(WebhookDelivery).where(
        WebhookDelivery.card_id == card.id)).all()
    assert delivery.event_type == "stamps.added"
    data = delivery.payload["data"]
    assert (data["transaction"]["stamps_delta"], data["transaction"]["points_delta"]) == (2, 0)
    assert data["card"]["stamp_count"] == 2
