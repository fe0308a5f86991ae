"""Every merchant-scoped route: another merchant's id is "not found", never "forbidden"."""
import pytest

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
