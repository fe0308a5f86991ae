"""The customer's card page carries the branding the owner approved in the preview: the card
colour and its text colour, the logo beside the card's name, the same card face."""
import io
import re

from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import LoyaltyProgram
from tests import factories, images
from tests.conftest import csrf_token_from

HEAD = re.compile(r'<div class="pass-head">(.*?)</div>', re.S)


def _head(page):
    """The card face's head (logo and name), without the preview's own markers."""
    head = re.sub(r"\s*data-preview-\w+", "", HEAD.search(page).group(1))
    head = re.sub(r"<(/?)(?:h1|p)\b", r"<\1x", head)  # the card page's name is its heading
    return re.sub(r"\s+>", ">", " ".join(head.split()))


def test_the_card_page_shows_the_card_face_of_the_branding_preview(
        auth, client, merchant):
    factories.stamp_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Carla Client", email="carla@example.com")
    auth.login_as(merchant.owner)
    token = csrf_token_from(client.get("/merchant/branding"))
    saved = client.post("/merchant/branding", content_type="multipart/form-data", data={
        "card_name": "Coffee club", "primary_color": "#7a1f4d", "secondary_color": "#ffe9a8",
        "terms_text": "", "privacy_url": "", "csrf_token": token,
        "logo": (io.BytesIO(images.encoded(120, 120)), "logo.png")})
    assert saved.status_code == 302
    preview = client.get("/merchant/branding").text
    logo_url = db.session.scalar(select(LoyaltyProgram.logo_url))
    auth.logout()

    page = client.get(f"/card/{card.page_secret}").text
    body = re.search(r'<body class="customer" ([^>]*)>', page).group(1)
    assert 'data-brand="#7a1f4d"' in body and 'data-brand-text="#ffe9a8"' in body
    head = HEAD.search(page).group(1)
    assert f'src="{logo_url}"' in head
    assert re.search(r'<h1 class="pass-name"[^>]*>Coffee club<', head)
    assert _head(page) == _head(preview)
    card_face = page[page.index('<div class="pass">'):page.index('class="pass-number"')]
    assert 'class="segno"' in card_face  # the card's code sits on the card, as previewed
    assert 'class="segno"' in preview[preview.index('<div class="pass">'):]
