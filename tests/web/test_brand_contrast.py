"""A shop's colours never make text unreadable (WCAG 2.1 AA, 1.4.3): wherever text meets the
card colour (customer pages, the card face, the poster, emails, the Apple pass) it takes the
shop's text colour when that reaches 4.5:1, else black or white; the branding page warns and
previews what customers get."""
import re

import pytest
from sqlalchemy import select

from loyalty.colours import contrast_ratio, readable_on
from loyalty.extensions import db
from loyalty.models import LoyaltyProgram, Merchant, SentEmail
from loyalty.services.merchant import branding
from loyalty.services.wallets import apple_pass
from tests import factories
from tests.conftest import csrf_token_from

POOR = {"primary_color": "#f0f0f0", "secondary_color": "#ffffff"}
GOOD = {"primary_color": "#7a1f4d", "secondary_color": "#ffe9a8"}


@pytest.mark.parametrize(("background", "text", "ratio"), [
    ("#777777", "#ffffff", 4.48),   # the grey just short of AA
    ("#767676", "#ffffff", 4.54),   # the lightest grey that passes on white
    ("#000000", "#ffffff", 21.0),
    ("#ffffff", "#ffffff", 1.0),
    ("#0000ff", "#ffffff", 8.59),
    ("#ff0000", "#ffffff", 4.0),
    ("#ffffff", "#808080", 3.95),
])
def test_the_contrast_ratio_is_wcags(background, text, ratio):
    assert contrast_ratio(background, text) == pytest.approx(ratio, abs=0.01)
    assert contrast_ratio(text, background) == pytest.approx(ratio, abs=0.01)


def test_a_readable_text_colour_is_the_shops_when_it_reads_else_black_or_white():
    assert readable_on("#1d5c4d", "#ffe9a8") == "#ffe9a8"       # kept as chosen
    assert readable_on("#f0f0f0", "#ffffff") == "#000000"       # light card: black
    assert readable_on("#202020", "#303030") == "#ffffff"       # dark card: white
    assert readable_on("#777777", "#ffffff") == "#000000"       # 4.48 is not 4.5
    assert readable_on("#767676", "#ffffff") == "#ffffff"
    for background in ("#777777", "#ff0000", "#00ff00", "#0000ff", "#808080", "#f0f0f0"):
        assert contrast_ratio(background, readable_on(background, background)) >= 4.5


def _brand(page):
    """The card colour and text colour a customer page paints (its body's data-brand)."""
    body = re.search(r'<body class="customer"([^>]*)>', page).group(1)
    return (re.search(r'data-brand="([^"]+)"', body).group(1),
            re.search(r'data-brand-text="([^"]+)"', body).group(1))


@pytest.fixture
def shop(merchant):
    def brand(colours):
        program = factories.stamp_program(merchant.merchant, **colours)
        card = factories.card(merchant.merchant, "Rita Read", email="rita@example.com")
        db.session.commit()
        return program, card
    return brand


def _customer_pages(client, card):
    return {path: client.get(path) for path in (
        "/m/cafe-test/", "/m/cafe-test/join", "/m/cafe-test/join/sent",
        f"/card/{card.page_secret}", f"/card/{card.page_secret}/delete")}


def test_customer_pages_read_on_a_poor_brand_pair(client, shop):
    _program, card = shop(POOR)
    for path, response in _customer_pages(client, card).items():
        assert response.status_code == 200, path
        background, text = _brand(response.text)
        assert background == "#f0f0f0", path
        assert contrast_ratio(background, text) >= 4.5, (path, text)
    card_page = client.get(f"/card/{card.page_secret}").text
    assert 'data-brand-line="#000000"' in card_page  # filled stamps get a ring that shows


def test_customer_pages_keep_a_readable_brand_pair_as_chosen(client, shop):
    _program, card = shop(GOOD)
    for path, response in _customer_pages(client, card).items():
        assert _brand(response.text) == ("#7a1f4d", "#ffe9a8"), path
    assert 'data-brand-line="#7a1f4d"' in client.get(f"/card/{card.page_secret}").text


def test_the_branding_page_warns_and_previews_what_customers_get(auth, client, merchant, shop):
    shop(POOR)
    auth.login_as(merchant.owner)
    page = client.get("/merchant/branding").text
    assert re.search(r'id="contrast-warning" role="status"\s*>', page)
    assert "customers see the text in black or white" in page
    preview = re.search(r'<div id="card-preview"[^>]*>', page).group(0)
    assert 'data-brand="#f0f0f0"' in preview and 'data-brand-text="#000000"' in preview


def test_the_poster_header_reads_on_a_poor_brand_pair(auth, client, merchant, shop):
    shop(POOR)
    auth.login_as(merchant.owner)
    page = client.get("/merchant/poster").text
    poster = re.search(r'<article class="poster[^>]*>', page).group(0)
    text = re.search(r'data-brand-text="([^"]+)"', poster).group(1)
    assert contrast_ratio("#f0f0f0", text) >= 4.5


def _join(client, language="fr"):
    token = csrf_token_from(client.get("/m/cafe-test/join"))
    return client.post("/m/cafe-test/join", data={
        "csrf_token": token, "first_name": "Chloé", "last_name": "Muller",
        "email": "chloe@example.com", "phone": "", "language": language, "consent": "y",
        "website": ""})


@pytest.mark.parametrize(("colours", "kept"), [(POOR, False), (GOOD, True)])
def test_the_welcome_email_reads_on_the_brand_colour_and_says_its_language(
        client, shop, colours, kept):
    shop(colours)
    assert _join(client).status_code == 302
    db.session.commit()
    html = db.session.scalar(select(SentEmail.body_html).where(SentEmail.template == "welcome"))
    assert re.search(r'<html lang="fr">', html)
    background = colours["primary_color"]
    styles = re.findall(rf'background:{background};color:(#[0-9a-f]{{6}});', html)
    assert len(styles) == 2  # the header and the button
    for text in styles:
        assert contrast_ratio(background, text) >= 4.5
        assert text == ("#ffffff" if kept else "#000000")  # white, the emails' own, if it reads


def _pass(card):
    """The pass.json of ``card``'s Apple pass, as the phone gets it."""
    program = db.session.get(LoyaltyProgram, card.program_id)
    merchant = db.session.get(Merchant, card.merchant_id)
    return apple_pass.pass_json(card, program, merchant, [], "en")


def _rgb_hex(value):
    return "#" + "".join(f"{int(part):02x}" for part in re.findall(r"\d+", value))


def test_the_apple_pass_reads_on_a_poor_brand_pair(shop):
    program, card = shop(POOR)
    data = _pass(card)
    assert _rgb_hex(data["backgroundColor"]) == "#f0f0f0"
    for key in ("foregroundColor", "labelColor"):
        assert contrast_ratio("#f0f0f0", _rgb_hex(data[key])) >= 4.5, key

    branding.update_branding(program, **GOOD)
    db.session.commit()
    data = _pass(card)
    assert _rgb_hex(data["foregroundColor"]) == _rgb_hex(data["labelColor"]) == "#ffe9a8"


def test_the_card_name_of_another_language_is_marked_in_the_email(client, merchant, shop):
    program, _card = shop(GOOD)
    merchant.merchant.default_locale = "en"
    db.session.commit()
    assert _join(client, language="fr").status_code == 302
    db.session.commit()
    html = db.session.scalar(select(SentEmail.body_html).where(SentEmail.template == "welcome"))
    assert re.search(r'<html lang="fr">', html)
    assert f'<span lang="en">{program.card_name}</span>' in html  # no French name was given
