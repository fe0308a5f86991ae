"""Every merchant-scoped route: another merchant's id is "not found", never "forbidden"."""
import pytest

from tests import factories

SCOPED_ROUTES = [
    ("/merchant/stores/{id}", lambda team: team.stores[0].id),
    ("/merchant/customers/{id}", lambda team: team.customers[0].id),
]


@pytest.mark.parametrize(("pattern", "pick"), SCOPED_ROUTES)
def test_own_record_opens(auth, client, merchant, pattern, pick):
    auth.login_as(merchant.owner)
    assert client.get(pattern.format(id=pick(merchant))).status_code == 200


@pytest.mark.parametrize(("pattern", "pick"), SCOPED_ROUTES)
def test_another_merchants_record_is_not_found(auth, client, merchant, other_merchant, pattern, pick):
    auth.login_as(merchant.owner)
    response = client.get(pattern.format(id=pick(other_merchant)))
    assert response.status_code == 404
    assert "We could not find this page" in response.text
    assert other_merchant.merchant.name not in response.text


def test_merchant_home_lists_only_own_stores_and_customers(auth, client, merchant, other_merchant):
    auth.login_as(merchant.owner)
    page = client.get("/merchant/").text
    assert merchant.stores[0].name in page
    assert merchant.customers[0].name in page
    assert other_merchant.stores[0].name not in page
    assert other_merchant.customers[0].name not in page


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
