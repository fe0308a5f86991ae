"""Links phones can open (#21, point 2): without PUBLIC_BASE_URL, development builds the
links of emails and posters on the address actually served, and the poster, team and admin
pages say plainly when that address is one customers' phones cannot reach."""
import os
import re
import subprocess

import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.links import reach_of
from loyalty.models import SentEmail
from loyalty.services.merchant import team
from tests import factories
from tests.conftest import AuthActions, csrf_token_from

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ON_ANOTHER_PORT = "http://127.0.0.1:8123"
LOOPBACK = "Phones cannot open links to 127.0.0.1: this address only works on this computer."
WIFI_ONLY = ("Links to 192.168.1.20 only open on phones on the same local network as this "
             "site, like the shop's Wi-Fi, never on mobile data.")


@pytest.fixture
def served(make_app):
    """The app as ``flask run`` serves it: on whatever host the browser used (no SERVER_NAME)."""
    app = make_app(SERVER_NAME=None)
    with app.app_context():
        yield app
        db.session.remove()


def _browser(app, base_url):
    """A test client whose requests go to ``base_url`` (the address typed in the browser)."""
    client = app.test_client()
    opener = client.open
    client.open = lambda *args, **kwargs: opener(*args, **{"base_url": base_url, **kwargs})
    return client, AuthActions(client)


def _last_email_to(address):
    db.session.commit()
    return db.session.scalar(select(SentEmail).where(SentEmail.to_address == address)
                             .order_by(SentEmail.id.desc()))


def test_make_run_on_another_port_gives_that_port_to_the_app():
    dry_run = subprocess.run(["make", "-n", "run", "PORT=8123"], cwd=ROOT, text=True,
                             capture_output=True, check=True).stdout
    assert re.search(r"FLASK_RUN_HOST=127\.0\.0\.1 FLASK_RUN_PORT=8123 \S+ --app wsgi run",
                     dry_run)


def test_emails_sent_outside_a_request_use_the_port_make_run_serves(monkeypatch, make_app,
                                                                    merchant):
    monkeypatch.setenv("FLASK_RUN_PORT", "8123")
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    app = make_app()  # a job or command of that `make run`, with no request
    with app.app_context():
        _membership, token = team.invite(merchant.merchant, email="zoe@example.com",
                                         name="Zoé", role="merchant_owner")
        assert f"{ON_ANOTHER_PORT}/set-password/{token}" in _last_email_to(
            "zoe@example.com").body_text
        db.session.remove()


def test_the_poster_and_emails_follow_the_address_the_page_was_opened_on(served):
    shop = factories.merchant_with_team("Café Port", "cafe-port")
    factories.stamp_program(shop.merchant)
    db.session.commit()
    client, auth = _browser(served, ON_ANOTHER_PORT)
    auth.login_as(shop.owner)
    poster = client.get("/merchant/poster").get_data(as_text=True)
    assert f"{ON_ANOTHER_PORT}/m/cafe-port/join" in poster
    assert "5000" not in poster

    token = csrf_token_from(client.get("/merchant/team"))  # the invitation: an inline job
    client.post("/merchant/team", data={"csrf_token": token, "email": "new@example.com",
                                        "name": "New", "role": "store_staff",
                                        "store_id": str(shop.stores[0].id)})
    assert f"{ON_ANOTHER_PORT}/set-password/" in _last_email_to("new@example.com").body_text

    customer, _auth = _browser(served, ON_ANOTHER_PORT)
    token = csrf_token_from(customer.get("/m/cafe-port/join"))
    customer.post("/m/cafe-port/join", data={
        "csrf_token": token, "first_name": "Chloé", "last_name": "Muller",
        "email": "chloe@example.com", "phone": "", "language": "en", "consent": "y",
        "website": ""})
    assert f"{ON_ANOTHER_PORT}/card/" in _last_email_to("chloe@example.com").body_text


def test_a_configured_public_address_wins_and_brings_no_warning(monkeypatch, make_app):
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://loyalty.example.com/")
    app = make_app(SERVER_NAME=None)
    with app.app_context():
        shop = factories.merchant_with_team("Café Port", "cafe-port")
        factories.stamp_program(shop.merchant)
        db.session.commit()
        client, auth = _browser(app, "http://127.0.0.1:5000")
        auth.login_as(shop.owner)
        poster = client.get("/merchant/poster").get_data(as_text=True)
        assert "https://loyalty.example.com/m/cafe-port/join" in poster
        assert 'data-testid="public-address-warning"' not in poster
        db.session.remove()


def test_the_poster_team_and_admin_pages_warn_about_a_loopback_address(served):
    shop = factories.merchant_with_team("Café Port", "cafe-port")
    factories.stamp_program(shop.merchant)
    admin = factories.user("Ada Admin", admin=True)
    db.session.commit()
    client, auth = _browser(served, "http://127.0.0.1:5000")
    auth.login_as(shop.owner)
    poster = client.get("/merchant/poster").get_data(as_text=True)
    assert LOOPBACK in poster
    assert "Before you print the poster, ask whoever runs this site" in poster
    team_page = client.get("/merchant/team").get_data(as_text=True)
    assert LOOPBACK in team_page and "Invitation emails link there too" in team_page
    auth.logout()
    auth.login_as(admin)
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert LOOPBACK in dashboard and "set PUBLIC_BASE_URL to the address customers" in dashboard

    named, auth = _browser(served, "http://localhost:5000")
    auth.login_as(shop.owner)
    assert ("Phones cannot open links to localhost: this address only works on this "
            "computer.") in named.get("/merchant/poster").get_data(as_text=True)


def test_a_private_network_address_is_said_to_work_on_the_shops_wifi_only(served):
    shop = factories.merchant_with_team("Café Port", "cafe-port")
    factories.stamp_program(shop.merchant)
    db.session.commit()
    client, auth = _browser(served, "http://192.168.1.20:5000")
    auth.login_as(shop.owner)
    poster = client.get("/merchant/poster").get_data(as_text=True)
    assert WIFI_ONLY in poster and "Phones cannot open" not in poster
    assert "http://192.168.1.20:5000/m/cafe-port/join" in poster


@pytest.mark.parametrize(("url", "scope"), [
    ("http://127.0.0.1:5000", "computer"), ("http://localhost:8000", "computer"),
    ("http://shop.localhost", "computer"), ("http://[::1]:5000", "computer"),
    ("http://0.0.0.0:5000", "computer"), ("http://10.0.0.4", "network"),
    ("http://172.20.1.1:5000", "network"), ("http://192.168.0.10", "network"),
    ("http://[fe80::1]:5000", "network"), ("http://laptop.local:5000", "network"),
    ("http://laptop:5000", "network"), ("https://loyalty.example.com", None),
    ("http://172.32.0.1", None), ("https://8.8.8.8", None),
])
def test_who_can_open_an_address(url, scope):
    reach = reach_of(url)
    assert (reach.scope if reach else None) == scope

