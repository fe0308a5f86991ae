"""What customers and staff see of points expiring by earning month: the card page, the
counter's panel and the expiry warning email name the next lot's points and day."""
from datetime import UTC, datetime

from sqlalchemy import func, select

from loyalty.extensions import db
from loyalty.models import AuditEntry, LoyaltyProgram, PointLot, SentEmail
from loyalty.services.delivery.expiry_warnings import warn_expiring_points
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.points import earn_points, expire_points
from tests import factories
from tests.conftest import choose_language, csrf_token_from


def _setup(merchant, frozen_clock, **fields):
    frozen_clock.set(datetime(2026, 1, 20, 9, tzinfo=UTC))
    factories.points_program(merchant.merchant, welcome_bonus_points=20,
                             points_expiry_rule="earning_month", points_expiry_months=12,
                             **fields)
    card = factories.card(merchant.merchant, "Lotta Lot", email="lotta@example.com")
    earn_points(card, 1000, context=ActionContext(store_id=merchant.stores[0].id))  # 100
    frozen_clock.set(datetime(2026, 3, 3, 9, tzinfo=UTC))
    earn_points(card, 500, context=ActionContext(store_id=merchant.stores[0].id))  # 50
    return card


def test_the_card_page_says_how_many_points_expire_when(client, merchant, frozen_clock):
    card = _setup(merchant, frozen_clock)
    page = client.get(f"/card/{card.page_secret}").get_data(as_text=True)
    assert "120 points expire on 1 Feb 2027." in page  # January's: the welcome 20 + 100


def test_the_counter_panel_says_it_too(terminal, merchant, frozen_clock):
    card = _setup(merchant, frozen_clock)
    terminal.sign_in(merchant.staff, merchant.stores[0])
    panel = terminal.client.get(f"/terminal/cards/{card.id}").get_data(as_text=True)
    assert "120 points expire on 1 Feb 2027." in panel


def test_a_program_expiring_after_inactivity_shows_no_lot(client, merchant, frozen_clock):
    frozen_clock.set(datetime(2026, 1, 20, 9, tzinfo=UTC))
    factories.points_program(merchant.merchant, welcome_bonus_points=20,
                             points_expiration_days=365)
    card = factories.card(merchant.merchant)
    page = client.get(f"/card/{card.page_secret}").get_data(as_text=True)
    assert "expire on" not in page and 'data-testid="lot-expiry"' not in page


def test_the_warning_names_the_next_lot_once_and_in_the_customers_language(
        merchant, frozen_clock):
    card = _setup(merchant, frozen_clock)
    frozen_clock.set(datetime(2027, 1, 10, 9, tzinfo=UTC))
    assert warn_expiring_points() == 0  # 22 days ahead: the notice is 14
    frozen_clock.set(datetime(2027, 1, 20, 9, tzinfo=UTC))
    assert warn_expiring_points() == 1
    assert warn_expiring_points() == 0  # once per lot
    db.session.commit()
    [sent] = db.session.scalars(select(SentEmail)).all()
    assert sent.to_address == "lotta@example.com"
    assert "120 points expire on 1 Feb 2027." in sent.body_text
    assert "exchange them for a reward" in sent.body_text
    # March's lot warns in its turn, after January's went
    frozen_clock.set(datetime(2027, 3, 20, 9, tzinfo=UTC))
    assert expire_points() == 1
    assert warn_expiring_points() == 1
    db.session.commit()
    last = db.session.scalars(select(SentEmail).order_by(SentEmail.id.desc())).first()
    assert "50 points expire on 1 Apr 2027." in last.body_text
    assert card.id


def test_one_point_is_singular_in_french(client, merchant, frozen_clock):
    frozen_clock.set(datetime(2026, 1, 20, 9, tzinfo=UTC))
    factories.points_program(merchant.merchant, welcome_bonus_points=1,
                             points_expiry_rule="earning_month", points_expiry_months=12)
    card = factories.card(merchant.merchant)
    link = f"/card/{card.page_secret}"
    choose_language(client, "fr", link, page=link)
    page = client.get(link).get_data(as_text=True)
    assert "1 point expire le" in page and "2027." in page, page


def test_the_owner_switches_the_rule_on_the_program_page_and_it_is_audited(
        client, auth, merchant, frozen_clock):
    program = factories.points_program(merchant.merchant, welcome_bonus_points=30,
                                       points_expiration_days=365)
    card = factories.card(merchant.merchant)
    auth.login_as(merchant.owner)
    page = client.get("/merchant/program").text
    assert "How points expire" in page and "expire on 1 February 2027" in page
    form = {"program_type": "points", "card_name": "Bakery points", "points_per_euro": "10",
            "point_value": "1", "points_expiration_days": "365",
            "points_expiry_rule": "earning_month", "points_expiry_months": "61"}
    token = csrf_token_from(client.get("/account"))
    refused = client.post("/merchant/program", data={**form, "csrf_token": token})
    assert refused.status_code == 422 and "Enter months from 1 to 60." in refused.text
    assert 'value="61"' in refused.text  # what was typed stays
    saved = client.post("/merchant/program",
                        data={**form, "points_expiry_months": "6", "csrf_token": token})
    assert saved.status_code == 302
    db.session.expire_all()
    program = db.session.get(LoyaltyProgram, program.id)
    assert (program.points_expiry_rule, program.points_expiry_months) == ("earning_month", 6)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "program.update"))
    assert entry.changes["points_expiry_rule"] == ["inactivity", "earning_month"]
    assert db.session.scalar(select(func.sum(PointLot.points_left))
                             .where(PointLot.card_id == card.id)) == 30  # the balance, in lots
