"""The win-back step of each merchant's morning, run by the real RQ worker against Redis:
"we miss you" once per period of inactivity, only with consent, never to an erased customer,
the bonus given once and taken back when it lapses unused."""
from datetime import UTC, datetime, timedelta

from rq import Queue
from sqlalchemy import event, func, select

from loyalty.database import write_transaction
from loyalty.extensions import db, redis_client
from loyalty.jobs.points import merchant_morning
from loyalty.models import Customer, LoyaltyCard, LoyaltyTransaction, SentEmail, TransactionType
from loyalty.services.customers import birthdays as customer_birthdays
from loyalty.services.customers import my_data
from loyalty.services.delivery import marketing, win_back
from loyalty.services.engine import points
from loyalty.services.engine.ledger import ActionContext, ledger_drift
from loyalty.services.merchant import programs
from tests import factories
from tests.jobs.conftest import CLOSED_PORT_URL, work

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def morning(app, shop):
    """Today's morning run of ``shop``, through the default queue and a worker (the emails it
    asks for go through the email queue)."""
    db.session.commit()
    Queue("default", connection=redis_client.connection).enqueue(merchant_morning, shop.id)
    work(app)
    db.session.commit()


def consent(card, given=True):
    with write_transaction():
        customer = db.session.get(Customer, card.customer_id)
        marketing.record_consent(customer, given, source="card_page")


def win_backs():
    db.session.commit()
    return [email.to_address for email in db.session.scalars(
        select(SentEmail).where(SentEmail.template == "win_back").order_by(SentEmail.id))]


def ledger(card, kind):
    return db.session.scalars(select(LoyaltyTransaction).where(
        LoyaltyTransaction.card_id == card.id, LoyaltyTransaction.transaction_type == kind)
        .order_by(LoyaltyTransaction.id)).all()


def balance(card):
    db.session.commit()
    return db.session.scalar(select(LoyaltyCard.points_balance).where(LoyaltyCard.id == card.id))


def purchase(card, cents=500):
    points.earn_points(db.session.get(LoyaltyCard, card.id), cents, context=ActionContext())


def shop_with_win_back(frozen_clock, name="Café Retour", slug="cafe-retour", **settings):
    frozen_clock.set(START)
    shop = factories.merchant_with_team(name, slug).merchant
    program = factories.points_program(shop)
    programs.update_program(program, **{"winback_enabled": True, "winback_inactive_days": 30,
                                        "winback_bonus_points": 50, "winback_bonus_days": 10,
                                        **settings})
    return shop


def test_sent_once_per_period_only_with_consent_and_never_to_the_erased(rq_app, frozen_clock):
    shop = shop_with_win_back(frozen_clock)
    nora = factories.card(shop, "Nora Offers", email="nora@example.com")
    olga = factories.card(shop, "Olga Nothanks", email="olga@example.com")
    erin = factories.card(shop, "Erin Erased", email="erin@example.com")
    ugo = factories.card(shop, "Ugo Unsubscribed", email="ugo@example.com")
    for card in (nora, erin, ugo):
        consent(card)
    consent(ugo, False)
    my_data.erase(erin)

    frozen_clock.set(START + timedelta(days=29))
    morning(rq_app, shop)
    assert win_backs() == []  # not inactive long enough

    frozen_clock.set(START + timedelta(days=31))
    morning(rq_app, shop)
    assert win_backs() == ["nora@example.com"]
    morning(rq_app, shop)  # the same morning again
    frozen_clock.advance(days=1)
    morning(rq_app, shop)  # and the next one
    assert win_backs() == ["nora@example.com"]
    assert balance(olga) == 0 and balance(nora) == 50

    # A visit starts a new period: another email after another 30 quiet days, not before.
    purchase(nora)
    frozen_clock.advance(days=20)
    morning(rq_app, shop)
    assert win_backs() == ["nora@example.com"]
    frozen_clock.advance(days=11)
    morning(rq_app, shop)
    assert win_backs() == ["nora@example.com", "nora@example.com"]
    assert len(ledger(nora, TransactionType.WINBACK_BONUS)) == 2
    assert ledger(olga, TransactionType.WINBACK_BONUS) == []
    assert ledger_drift() == []


def test_the_bonus_is_given_once_and_lapses_unused_after_n_days(rq_app, frozen_clock):
    shop = shop_with_win_back(frozen_clock)
    card = factories.card(shop, "Nora Offers", email="nora@example.com")
    kept = factories.card(shop, "Kim Comesback", email="kim@example.com")
    consent(card)
    consent(kept)

    frozen_clock.set(START + timedelta(days=31))
    morning(rq_app, shop)
    morning(rq_app, shop)
    [bonus] = ledger(card, TransactionType.WINBACK_BONUS)
    assert (bonus.points_delta, bonus.points_balance_after) == (50, 50)
    assert balance(card) == 50 and balance(kept) == 50

    frozen_clock.advance(days=3)
    purchase(kept)  # Kim came back: the gift is hers to keep
    kept_balance = balance(kept)

    frozen_clock.advance(days=6)  # 9 days after the gift: not lapsed yet
    morning(rq_app, shop)
    assert balance(card) == 50

    frozen_clock.advance(days=2)  # 11 days after
    morning(rq_app, shop)
    morning(rq_app, shop)
    assert balance(card) == 0
    [lapse] = ledger(card, TransactionType.WINBACK_LAPSED)
    assert (lapse.points_delta, lapse.related_transaction_id, lapse.void_shortfall) == (
        -50, bonus.id, 0)
    assert balance(kept) == kept_balance and ledger(kept, TransactionType.WINBACK_LAPSED) == []
    assert ledger_drift() == []


def test_expiry_leaves_the_gift_until_it_lapses_then_takes_it_back_first(rq_app, frozen_clock):
    """Points expire after 30 quiet days, the email goes after 60: the gift the email promises
    "until" its date stays on the card until then, though the card is long due to expire."""
    shop = shop_with_win_back(frozen_clock, winback_inactive_days=60, winback_bonus_days=10)
    programs.update_program(programs.live_program(shop.id), points_expiration_days=30)
    card = factories.card(shop, "Nora Offers", email="nora@example.com")
    consent(card)
    purchase(card)  # 50 points, then nothing
    frozen_clock.set(START + timedelta(days=31))
    morning(rq_app, shop)
    assert balance(card) == 0  # expired as usual
    frozen_clock.set(START + timedelta(days=61))
    morning(rq_app, shop)
    [bonus] = ledger(card, TransactionType.WINBACK_BONUS)
    assert balance(card) == 50 and win_backs() == ["nora@example.com"]
    for day in range(1, 10):  # every morning up to the date the email gives
        frozen_clock.set(START + timedelta(days=61 + day))
        morning(rq_app, shop)
        assert balance(card) == 50, day
    assert len(ledger(card, TransactionType.POINTS_EXPIRED)) == 1
    frozen_clock.set(START + timedelta(days=72))  # lapsed unused: taken back, not "expired"
    morning(rq_app, shop)
    assert balance(card) == 0
    [lapse] = ledger(card, TransactionType.WINBACK_LAPSED)
    assert (lapse.points_delta, lapse.related_transaction_id, lapse.void_shortfall) == (
        -50, bonus.id, 0)
    assert len(ledger(card, TransactionType.POINTS_EXPIRED)) == 1
    assert ledger_drift() == []


def test_after_the_lapse_the_same_morning_expires_the_rest_as_usual(rq_app, frozen_clock):
    shop = shop_with_win_back(frozen_clock, winback_bonus_days=20)  # the email after 30 days
    programs.update_program(programs.live_program(shop.id), points_expiration_days=40)
    card = factories.card(shop, "Nora Offers", email="nora@example.com")
    consent(card)
    purchase(card, 300)  # 30 points of her own
    frozen_clock.set(START + timedelta(days=31))
    morning(rq_app, shop)
    assert balance(card) == 80
    frozen_clock.set(START + timedelta(days=45))  # 45 quiet days: due, but the gift is open
    morning(rq_app, shop)
    assert balance(card) == 80 and ledger(card, TransactionType.POINTS_EXPIRED) == []
    frozen_clock.set(START + timedelta(days=52))  # the gift lapsed: back first, then expiry
    morning(rq_app, shop)
    assert balance(card) == 0
    [lapse] = ledger(card, TransactionType.WINBACK_LAPSED)
    [expired] = ledger(card, TransactionType.POINTS_EXPIRED)
    assert (lapse.points_delta, lapse.void_shortfall, expired.points_delta) == (-50, 0, -30)
    assert ledger_drift() == []


def test_a_birthday_inside_an_open_win_back_is_not_a_visit(rq_app, frozen_clock):
    """The birthday bonus neither keeps an unused win-back bonus nor starts a new period of
    inactivity (no second "we miss you" to someone who never came back)."""
    shop = shop_with_win_back(frozen_clock)
    programs.update_program(programs.live_program(shop.id), birthday_bonus_points=20)
    card = factories.card(shop, "Nora Offers", email="nora@example.com")
    consent(card)
    birthday = (START + timedelta(days=35)).date()
    customer_birthdays.change_birthday(card, birthday.day, birthday.month)
    last_visit = db.session.get(LoyaltyCard, card.id).last_activity_at
    frozen_clock.set(START + timedelta(days=31))
    morning(rq_app, shop)
    assert balance(card) == 50
    frozen_clock.set(START + timedelta(days=35))  # her birthday, the win-back gift still open
    morning(rq_app, shop)
    assert balance(card) == 70 and len(ledger(card, TransactionType.BIRTHDAY_BONUS)) == 1
    frozen_clock.set(START + timedelta(days=42))  # the win-back gift lapsed: it goes back
    morning(rq_app, shop)
    assert balance(card) == 20
    assert ledger(card, TransactionType.WINBACK_LAPSED)[0].points_delta == -50
    frozen_clock.set(START + timedelta(days=70))  # 35 days after the birthday
    morning(rq_app, shop)
    assert win_backs() == ["nora@example.com"]
    fresh = db.session.get(LoyaltyCard, card.id, populate_existing=True)
    assert fresh.last_activity_at == last_visit
    assert ledger_drift() == []


def test_switched_off_or_without_bonus(rq_app, frozen_clock):
    shop = shop_with_win_back(frozen_clock, winback_enabled=False)
    card = factories.card(shop, "Nora Offers", email="nora@example.com")
    consent(card)
    frozen_clock.set(START + timedelta(days=31))
    morning(rq_app, shop)
    assert win_backs() == []

    programs.update_program(programs.live_program(shop.id), winback_enabled=True,
                            winback_bonus_points=0)
    morning(rq_app, shop)
    assert win_backs() == ["nora@example.com"]
    assert balance(card) == 0 and ledger(card, TransactionType.WINBACK_BONUS) == []
    [email] = db.session.scalars(select(SentEmail).where(SentEmail.template == "win_back"))
    assert "We miss you at Café Retour" == email.subject
    assert "Your card is waiting for you" in email.body_text
    assert "/unsubscribe/" in email.body_text and "/unsubscribe/" in email.body_html
    for body in (email.body_text, email.body_html):  # one reason for the email: the offers
        assert "because you hold a loyalty card" not in body
        assert body.count("You receive offers by email because you asked for them") == 1
    assert "<br>You receive offers" not in email.body_html  # the footer's first line
    assert db.session.scalar(select(func.count(SentEmail.id))) >= 1


class Statements:
    def __init__(self):
        self.count = 0

    def __call__(self, *args):
        self.count += 1


def _statements_for(frozen_clock, cards):
    shop = shop_with_win_back(frozen_clock, f"Shop {cards}", f"shop-{cards}")
    for n in range(cards):
        consent(factories.card(shop, f"Member {n}", email=f"member{n}@example.com"))
    frozen_clock.set(START + timedelta(days=31))
    db.session.commit()
    counter = Statements()
    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        result = win_back.win_back_morning(shop.id)
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    assert result["sent"] == cards
    return counter.count


def test_the_step_costs_the_same_statements_for_1_and_30_members(make_app, frozen_clock):
    """One grouped query per batch, never one per member (the emails are sent later, by their
    own jobs: here they stay in the outbox)."""
    app = make_app(JOBS_INLINE=False, REDIS_URL=CLOSED_PORT_URL)  # the emails wait
    with app.app_context():
        counts = [_statements_for(frozen_clock, cards) for cards in (1, 30)]
    assert counts[0] == counts[1]


def test_a_stamp_card_gets_stamps_and_loses_them_unused(rq_app, frozen_clock):
    frozen_clock.set(START)
    shop = factories.merchant_with_team("Café Stempel", "cafe-stempel").merchant
    program = factories.stamp_program(shop)
    programs.update_program(program, winback_enabled=True, winback_inactive_days=30,
                            winback_bonus_stamps=2, winback_bonus_points=0, winback_bonus_days=7)
    card = factories.card(shop, "Nora Offers", email="nora@example.com")
    consent(card)
    frozen_clock.set(START + timedelta(days=31))
    morning(rq_app, shop)
    [email] = db.session.scalars(select(SentEmail).where(SentEmail.template == "win_back"))
    assert "added 2 stamps to your card" in email.body_text
    assert "Come by before" in email.body_text
    db.session.refresh(db.session.get(LoyaltyCard, card.id))
    assert db.session.get(LoyaltyCard, card.id).stamp_count == 2
    frozen_clock.advance(days=8)
    morning(rq_app, shop)
    fresh = db.session.get(LoyaltyCard, card.id, populate_existing=True)
    assert fresh.stamp_count == 0 and fresh.winback_bonus_until is None
    [lapse] = ledger(card, TransactionType.WINBACK_LAPSED)
    assert lapse.stamps_delta == -2
    assert ledger_drift() == []
