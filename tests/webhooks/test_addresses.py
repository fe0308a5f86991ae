"""In production a webhook never reaches the platform's own network: loopback, private and
link-local addresses are refused when the endpoint is added (after DNS resolution), and again
when each delivery is sent (the connection goes to the address that was checked)."""
import socket

import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import WebhookDelivery
from loyalty.services.errors import InvalidInput
from loyalty.services.integrations import webhook_addresses, webhooks
from tests import factories


@pytest.fixture
def production(app, monkeypatch):
    monkeypatch.setitem(app.config, "ENV_NAME", "production")


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/hooks",
    "https://127.8.9.10:8443/hooks",
    "https://10.1.2.3/hooks",
    "https://172.16.0.5/hooks",
    "https://192.168.1.20/hooks",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hooks",
    "https://[fe80::1]/hooks",
    "https://[::ffff:127.0.0.1]/hooks",
    "https://0.0.0.0/hooks",
    "https://localhost/hooks",  # a name: refused for what it resolves to
])
def test_private_addresses_are_refused_in_production(production, merchant, url):
    with pytest.raises(InvalidInput, match="private or local network"):
        webhooks.create_endpoint(merchant.id, url=url, events=["card.enrolled"])


def test_a_name_is_judged_by_every_address_it_resolves_to(production, merchant, monkeypatch):
    answers = {"public.example": ["93.184.215.14"], "sneaky.example": ["93.184.215.14", "10.0.0.7"]}

    def resolve(host, port, type=0):  # noqa: A002 - the signature of socket.getaddrinfo
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
                for address in answers[host]]

    monkeypatch.setattr(webhook_addresses.socket, "getaddrinfo", resolve)
    endpoint, _secret = webhooks.create_endpoint(merchant.id, url="https://public.example/h",
                                                 events=["card.enrolled"])
    assert endpoint.url == "https://public.example/h"
    with pytest.raises(InvalidInput, match="private or local network"):
        webhooks.create_endpoint(merchant.id, url="https://sneaky.example/h",
                                 events=["card.enrolled"])


def test_plain_http_is_refused_in_production_even_to_a_public_address(production, merchant):
    with pytest.raises(InvalidInput, match="https://"):
        webhooks.create_endpoint(merchant.id, url="http://93.184.215.14/h",
                                 events=["card.enrolled"])


def test_a_name_that_does_not_resolve_is_refused(merchant):
    with pytest.raises(InvalidInput, match="could not be found"):
        webhooks.create_endpoint(merchant.id, url="https://no-such-host.invalid/h",
                                 events=["card.enrolled"])


def test_an_address_checked_again_at_each_delivery(app, merchant, receiver, monkeypatch):
    """Added outside production (the local receiver), then sent in production: the
    delivery is refused before any connection is made."""
    factories.points_program(merchant.merchant)
    webhooks.create_endpoint(merchant.id, url=receiver.url, events=["card.enrolled"])
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    factories.card(merchant.merchant)
    assert receiver.received == []
    delivery = db.session.scalar(select(WebhookDelivery))
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.last_error.startswith("address: This address leads to a private")


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(merchant, receiver):
    """``localhost`` is resolved once, the request connects to that address and says
    ``Host: localhost:<port>`` (and would give it as the TLS server name)."""
    factories.points_program(merchant.merchant)
    webhooks.create_endpoint(merchant.id, url=f"http://localhost:{receiver.port}/hooks",
                             events=["card.enrolled"])
    factories.card(merchant.merchant)
    headers, _body = receiver.received[-1]
    assert headers["host"] == f"localhost:{receiver.port}"


def test_redirects_are_not_followed(merchant, receiver):
    factories.points_program(merchant.merchant)
    webhooks.create_endpoint(merchant.id, url=receiver.url, events=["card.enrolled"])
    receiver.answers = [307]
    factories.card(merchant.merchant)
    assert len(receiver.received) == 1
    delivery = db.session.scalar(select(WebhookDelivery))
    assert (delivery.status, delivery.response_code) == ("pending", 307)
