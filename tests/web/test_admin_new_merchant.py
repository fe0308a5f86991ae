"""The back office's new-merchant form (#21, point 11): a hint that renders, addresses on
names kept for tests welcome outside production (and refused there with the reason), and a
web address made from the shop's name."""
import html

import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import Merchant, SentEmail, User
from loyalty.services.platform.merchant_admin import slug_from_name
from tests import factories
from tests.conftest import csrf_token_from

FORM = "/admin/merchants/new"


@pytest.fixture
def signed_in_admin(auth):
    admin = factories.user("Ada Admin", admin=True)
    db.session.commit()
    auth.login_as(admin)
    return admin


def _create(client, **fields):
    token = csrf_token_from(client.get(FORM))
    data = {"csrf_token": token, "name": "Café Müller", "slug": "", "timezone": "Europe/Luxembourg",
            "currency": "EUR", "default_locale": "fr", "country": "LU",
            "owner_name": "Nina Owner", "owner_email": "nina@cafe-muller.lu", **fields}
    return client.post(FORM, data=data)


def _merchant(slug):
    db.session.commit()
    return db.session.scalar(select(Merchant).where(Merchant.slug == slug))


def test_the_web_address_hint_reads_as_text_with_the_real_address(client, signed_in_admin):
    page = client.get(FORM).get_data(as_text=True)
    assert "<address>" not in page  # an HTML tag that swallowed the rest of the hint
    hint = page.split('id="slug-hint">', 1)[1].split("</p>", 1)[0]
    assert html.unescape(hint) == (
        "The part of the shop's address after /m/, like cafe-gare in "
        "http://localhost/m/cafe-gare/: lower-case letters, digits and dashes. Made from the "
        "name unless you change it.")
    assert 'data-slug-from="name"' in page and "js/slug.js" in page


@pytest.mark.parametrize("address", ["owner@cafe.test", "owner@shop.localhost",
                                     "owner@example.com", "owner@cafe.example",
                                     "owner@nowhere.invalid"])
def test_addresses_kept_for_tests_are_welcome_in_development(client, signed_in_admin,
                                                              address):
    response = _create(client, slug="cafe-muller", owner_email=address)
    assert response.status_code == 302
    merchant = _merchant("cafe-muller")
    owner = db.session.scalar(select(User).where(User.email == address))
    assert merchant is not None and owner is not None
    invitation = db.session.scalar(select(SentEmail).where(SentEmail.to_address == address))
    assert invitation.template == "team_invitation"


def test_a_malformed_address_is_still_refused_in_development(client, signed_in_admin):
    response = _create(client, owner_email="owner@@cafe.test")
    assert response.status_code == 422
    assert "Enter a valid email address, like name@example.com." in response.get_data(
        as_text=True)
    assert _merchant("cafe-muller") is None


@pytest.mark.parametrize(("address", "domain"), [("owner@cafe.test", "cafe.test"),
                                                 ("owner@example.com", "example.com"),
                                                 ("owner@shop.localhost", "shop.localhost")])
def test_production_refuses_them_and_says_why(app, client, signed_in_admin, address, domain):
    app.config["ENV_NAME"] = "production"
    response = _create(client, owner_email=address)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert (f"Mail to {domain} never arrives: the name is kept for examples and tests. "
            "Enter an address the person reads.") in page
    assert "Enter a valid email address" not in page
    assert f'value="{address}"' in page  # kept for correcting
    assert _merchant("cafe-muller") is None


def test_a_web_address_left_empty_is_made_from_the_name(client, signed_in_admin):
    assert _create(client, name="Café Müller", slug="").status_code == 302
    assert _merchant("cafe-muller").name == "Café Müller"

    again = _create(client, name="Café  Müller!", slug="",
                    owner_email="other@cafe-muller.lu")  # makes the same address: taken
    page = again.get_data(as_text=True)
    assert again.status_code == 422 and "already uses this web address" in page
    assert 'name="slug" type="text" value="cafe-muller"' in page  # shown, to change it


@pytest.mark.parametrize(("name", "slug"), [
    ("Café Müller", "cafe-muller"), ("  Straßen-Bäckerei & Co. ", "strassen-backerei-co"),
    ("L'Œuvre d'Ærø", "l-oeuvre-d-aero"), ("Zoé's   Salon", "zoe-s-salon"), ("☕", ""),
])
def test_the_address_a_name_suggests(name, slug):
    assert slug_from_name(name) == slug
