"""Settings > Integrations > Webhooks: an owner adds an endpoint (its secret shown once),
sends a test event, reads the deliveries, sends one again and removes the endpoint; refused
input keeps what was typed; the counter's actions reach the receiver."""
import html
import re

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from loyalty.extensions import db
from loyalty.models import AuditEntry, WebhookDelivery, WebhookEndpoint
from loyalty.services.integrations import webhooks
from tests import factories
from tests.conftest import csrf_token_from

SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]{40,}")
PAGE = "/merchant/integrations/webhooks"


def _post(client, url, data=None):
    token = csrf_token_from(client.get("/account"))
    return client.post(url, data={**(data or {}), "csrf_token": token})


def _add(client, url, events=("points.earned", "card.enrolled")):
    return _post(client, PAGE, {"url": url, "events": list(events)})


def test_an_owner_adds_an_endpoint_and_its_secret_is_shown_once(auth, client, points_shop,
                                                                receiver):
    auth.login_as(points_shop.owner)
    created = _add(client, receiver.url)
    assert created.status_code == 200
    assert "Copy it now: it will not be shown again." in created.text
    secret = SECRET.search(created.text).group(0)
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert endpoint.event_list == ["card.enrolled", "points.earned"]
    assert secret not in endpoint.secret_encrypted  # kept encrypted
    assert secret not in client.get(PAGE).text  # never shown again
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "webhook.create"))
    assert entry.actor_id == points_shop.owner.id and secret not in str(entry.changes)

    tested = _post(client, f"{PAGE}/{endpoint.id}/test")
    assert tested.status_code == 302
    headers, body = receiver.received[-1]
    assert Webhook(secret).verify(body, headers)["type"] == "webhook.test"
    log = client.get(PAGE).text
    assert "webhook.test" in log and "Delivered" in log and ">200<" in log


def test_the_delivery_log_and_send_again(auth, client, points_shop, receiver):
    webhooks.create_endpoint(points_shop.id, url=receiver.url, events=["card.enrolled"])
    receiver.answers = [500] * 10
    factories.card(points_shop.merchant, "Lou Log")
    auth.login_as(points_shop.owner)
    page = client.get(PAGE).text
    assert "card.enrolled" in page and "Waiting" in page and ">500<" in page
    delivery = db.session.scalar(select(WebhookDelivery))
    assert "Send again" not in page  # still being retried by itself

    db.session.execute(WebhookDelivery.__table__.update().values(status="failed"))
    db.session.commit()
    receiver.answers = []
    again = _post(client, f"{PAGE}/deliveries/{delivery.id}/again")
    assert again.status_code == 302
    headers, _body = receiver.received[-1]
    assert headers["webhook-id"] == delivery.message_id  # the same event
    page = client.get(PAGE).text
    assert page.count('data-testid="webhook-delivery"') == 2 and "Delivered" in page


def test_an_owner_removes_an_endpoint(auth, client, points_shop, receiver):
    endpoint, _secret = webhooks.create_endpoint(points_shop.id, url=receiver.url,
                                                 events=["card.enrolled"])
    auth.login_as(points_shop.owner)
    removed = _post(client, f"{PAGE}/{endpoint.id}/remove")
    assert removed.status_code == 302
    assert db.session.scalar(select(WebhookEndpoint)) is None
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "webhook.delete"))
    factories.card(points_shop.merchant)
    assert receiver.received == []


@pytest.mark.parametrize("typed, events, message", [
    ("ftp://shop.example/hooks", ["card.enrolled"], "Enter an address that starts with https://."),
    ("https://user:pw@shop.example/hooks", ["card.enrolled"], "Leave the user name and password"),
    ("https://shop.example/hooks", [], "Pick at least one event to send."),
    ("", ["card.enrolled"], "Enter the address of your endpoint."),
])
def test_a_refused_endpoint_keeps_what_was_typed(auth, client, points_shop, typed, events,
                                                 message):
    auth.login_as(points_shop.owner)
    refused = _add(client, typed, events)
    assert refused.status_code == 422
    assert message in html.unescape(refused.text)
    assert 'data-testid="error-summary"' in refused.text
    assert f'value="{html.escape(typed)}"' in refused.text or not typed
    for event in events:
        assert f'value="{event}" checked' in refused.text
    assert db.session.scalar(select(WebhookEndpoint)) is None


def test_creating_needs_the_csrf_token(auth, client, points_shop, receiver):
    auth.login_as(points_shop.owner)
    refused = client.post(PAGE, data={"url": receiver.url, "events": ["card.enrolled"]})
    assert refused.status_code in (400, 422)
    assert db.session.scalar(select(WebhookEndpoint)) is None


@pytest.mark.parametrize("who", ["manager", "staff"])
def test_only_owners_open_the_page(auth, client, points_shop, who):
    auth.login_as(getattr(points_shop, who))
    assert client.get(PAGE).status_code == 403


def test_another_merchants_endpoint_and_deliveries_are_not_found(auth, client, points_shop,
                                                                 other_merchant, receiver):
    endpoint, _secret = webhooks.create_endpoint(other_merchant.id, url=receiver.url,
                                                 events=["card.enrolled"])
    delivery_id = webhooks.send_test(other_merchant.id, endpoint.id)
    auth.login_as(points_shop.owner)
    assert receiver.url not in client.get(PAGE).text
    for url in (f"{PAGE}/{endpoint.id}/remove", f"{PAGE}/{endpoint.id}/test",
                f"{PAGE}/deliveries/{delivery_id}/again"):
        assert _post(client, url).status_code == 404
    assert db.session.get(WebhookEndpoint, endpoint.id) is not None
    assert len(receiver.received) == 1


def test_the_counters_stamp_reaches_the_receiver(terminal, merchant, receiver):
    factories.stamp_program(merchant.merchant, cooldown_minutes=0)
    card = factories.card(merchant.merchant)
    terminal.sign_in(merchant.staff, merchant.stores[0])
    assert terminal.act(card.id, "stamp").status_code == 200  # the worker's copy: no endpoint
    webhooks.create_endpoint(merchant.id, url=receiver.url, events=["stamps.added"])
    assert terminal.act(card.id, "stamp").status_code == 200  # the next request sees it
    stamped = [event for event in receiver.events() if event["type"] == "stamps.added"]
    assert len(stamped) == 1
    assert stamped[0]["data"]["card"]["stamp_count"] == 2
    assert stamped[0]["data"]["transaction"]["store_id"] == merchant.stores[0].id


def test_a_receiver_that_cannot_be_reached_is_said_so(auth, client, points_shop):
    endpoint, _secret = webhooks.create_endpoint(points_shop.id, url="http://127.0.0.1:9/h",
                                                 events=["card.enrolled"])
    webhooks.send_test(points_shop.id, endpoint.id)  # nothing listens on port 9
    auth.login_as(points_shop.owner)
    page = client.get(PAGE).text
    assert "Could not connect" in page and "Not delivered" in page


def test_the_settings_menu_marks_integrations_on_the_webhooks_page(auth, client, points_shop):
    auth.login_as(points_shop.owner)
    page = client.get(PAGE).text
    current = re.findall(r'<a href="([^"]+)" aria-current="page">', page)
    assert current == ["/merchant/integrations"]
