"""Every merchant-scoped route: another merchant's id is "not found", never "forbidden", and
nothing changes. The /merchant routes come from the URL map, so a new one is checked too."""
from datetime import date, time

import pytest
from sqlalchemy import func, select

from loyalty.extensions import db
from loyalty.models import AuditEntry, LoyaltyTransaction, Reward
from loyalty.services.engine import staff_pins
from loyalty.services.integrations import api_keys, webhooks
from loyalty.services.merchant import happy_hours, programs
from tests import factories
from tests.conftest import csrf_token_from

RECORD_ARGUMENTS = {"reward_id", "store_id", "card_id", "customer_id", "staff_pin_id",
                    "transaction_id", "membership_id", "user_id", "api_key_id", "endpoint_id",
                    "delivery_id", "happy_hour_id", "alert_id"}


class Records:
    """One merchant's records, by the URL argument that names them."""

    def __init__(self, team):
        program = factories.hybrid_program(team.merchant)
        self.team = team
        reward = programs.add_reward(program, f"{team.merchant.name} cake", 10)
        card = factories.card(team.merchant, f"{team.merchant.name} Carla",
                              email=f"carla@{team.merchant.slug}.example")
        pin = staff_pins.create_staff_pin(team.merchant, team.stores[0], "Pia", "4321")
        key, _secret = api_keys.create_key(team.merchant.id, name="Till", scopes=["cards:read"])
        # Port 9 (discard): nothing listens, the test event fails at once and stays listed.
        endpoint, _secret = webhooks.create_endpoint(team.merchant.id, url="http://127.0.0.1:9/h",
                                                     events=["card.enrolled"])
        delivery_id = webhooks.send_test(team.merchant.id, endpoint.id)
        happy_hour = happy_hours.create_happy_hour(
            team.merchant, name="Happy", kind="points", factor=2, weekdays=[0],
            start_time=time(14), end_time=time(17), starts_on=date(2026, 1, 1), all_stores=True)
        transaction = db.session.scalar(select(LoyaltyTransaction).where(
            LoyaltyTransaction.card_id == card.id))
        alert = factories.fraud_alert(team.merchant, store=team.stores[0], cards=[card],
                                      staff_pin=pin)
        self.ids = {
            "reward_id": reward.id, "store_id": team.stores[0].id, "card_id": card.id,
            "customer_id": team.customers[0].id, "staff_pin_id": pin.id,
            "transaction_id": transaction.id, "membership_id": team.staff.memberships[0].id,
            "user_id": team.staff.id, "api_key_id": key.id, "endpoint_id": endpoint.id,
            "delivery_id": delivery_id, "happy_hour_id": happy_hour.id, "alert_id": alert.id,
        }
        assert set(self.ids) == RECORD_ARGUMENTS


def _merchant_rules(app):
    return sorted((rule for rule in app.url_map.iter_rules()
                   if rule.rule.startswith("/merchant") and rule.arguments),
                  key=lambda rule: rule.rule)


def _url(app, rule, ids):
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        values[name] = ids[name] if name in ids else sorted(getattr(converter, "items", ["x"]))[0]
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def _state():
    db.session.commit()
    return (db.session.scalar(select(func.count(LoyaltyTransaction.id))),
            db.session.scalar(select(func.count(AuditEntry.id))),
            tuple(db.session.execute(select(Reward.id, Reward.name, Reward.is_active,
                                            Reward.position).order_by(Reward.id)).all()))


def test_every_id_a_merchant_url_takes_has_a_record_to_try(app):
    """A new route naming a new kind of record must say here which record of the other
    merchant to try."""
    names = {name for rule in _merchant_rules(app) for name in rule.arguments
             if type(rule._converters[name]).__name__ == "IntegerConverter"}
    assert names <= RECORD_ARGUMENTS, names - RECORD_ARGUMENTS


@pytest.mark.parametrize("who", ["owner", "manager"])
def test_another_merchants_ids_are_not_found_and_change_nothing(
        app, auth, client, merchant, other_merchant, who):
    Records(merchant)
    theirs = Records(other_merchant)
    auth.login_as(getattr(merchant, who))
    token = csrf_token_from(client.get("/account"))
    before = _state()
    checked = 0
    for rule in _merchant_rules(app):
        url = _url(app, rule, theirs.ids)
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = client.open(url, method=method, headers={"X-CSRFToken": token},
                                   data={"name": "Hacked", "points_cost": "1"} if method == "POST" else None)
            allowed = {404, 403} if who == "manager" else {404}
            assert response.status_code in allowed, (method, url, response.status_code)
            assert other_merchant.merchant.name not in response.text
            checked += 1
    assert checked >= 4
    assert _state() == before


def test_merchant_start_page_shows_only_our_merchant(auth, client, merchant, other_merchant):
    auth.login_as(merchant.owner)
    page = client.get("/merchant/").text
    assert merchant.merchant.name in page
    assert other_merchant.merchant.name not in page


@pytest.fixture
def foreign_card(other_merchant):
    factories.hybrid_program(other_merchant.merchant)
    return factories.card(other_merchant.merchant, "Foreign Fiona", email="fiona@example.com")


TERMINAL_ROUTES = [
    ("GET", "/terminal/cards/{id}", {}),
    ("GET", "/terminal/cards/{id}/sheet/stamp", {}),
    ("GET", "/terminal/cards/{id}/sheet/earn", {}),
    ("POST", "/terminal/cards/{id}/stamp", {}),
    ("POST", "/terminal/cards/{id}/redeem-stamps", {}),
    ("POST", "/terminal/cards/{id}/earn", {"amount": "10.00"}),
    ("POST", "/terminal/cards/{id}/redeem", {"reward_id": "1"}),
    ("POST", "/terminal/cards/{id}/void", {"transaction_id": "1"}),
]


@pytest.mark.parametrize(("method", "pattern", "data"), TERMINAL_ROUTES)
def test_another_merchants_card_is_not_found_at_the_terminal(
    terminal, merchant, foreign_card, method, pattern, data
):
    factories.hybrid_program(merchant.merchant)
    terminal.sign_in(merchant.staff)
    url = pattern.format(id=foreign_card.id)
    if method == "GET":
        response = terminal.client.get(url, headers=terminal.HTMX)
    else:
        response = terminal.client.post(url, data={"idempotency_key": "k", **data},
                                        headers={**terminal.HTMX, "X-CSRFToken": terminal.token})
    assert response.status_code == 404
    assert "Foreign Fiona" not in response.text
    assert foreign_card.points_balance == 0 and foreign_card.stamp_count == 0
