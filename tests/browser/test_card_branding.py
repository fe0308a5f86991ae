"""The card a customer sees on their phone is the card the owner approved in the branding
preview: the same colours, the logo beside the card's name, the same card face."""
import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import LoyaltyCard, Merchant
from tests import images
from tests.browser.conftest import OUTPUT, open_page

pytestmark = pytest.mark.browser

FACE = """selector => {
  const face = document.querySelector(selector);
  const style = getComputedStyle(face);
  const logo = face.querySelector('.pass-head img.pass-logo');
  const name = face.querySelector('.pass-head .pass-name');
  return {background: style.backgroundColor, color: style.color,
          radius: style.borderRadius,
          logo: logo && !logo.hidden ? new URL(logo.src).pathname : null,
          name: name && name.textContent.trim(),
          nameColor: name && getComputedStyle(name).color,
          labels: [...face.querySelectorAll('.pass-label')].map(label => label.textContent.trim()),
          code: !!face.querySelector('.pass-code')};
}"""


def test_the_card_page_shows_the_card_of_the_branding_preview(
        playwright_browser, live_server, request, tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(images.encoded(160, 160, "PNG"))
    owner = open_page(playwright_browser, live_server.url, request,
                      viewport={"width": 1440, "height": 900}, locale="en-GB")
    owner.goto(owner.base + "/login")
    owner.fill("#email", "owner@kaffisbuttek.lu")
    owner.fill("#password", "demo-password")
    owner.click("button[type=submit]")
    owner.wait_for_url("**/merchant/")
    owner.goto(owner.base + "/merchant/branding")
    owner.fill("#primary_color", "#7a1f4d")
    owner.fill("#secondary_color", "#ffe9a8")
    owner.set_input_files("#logo", str(logo))
    owner.click("text=Save branding")
    owner.wait_for_url("**/merchant/branding")
    approved = owner.evaluate(FACE, "#card-preview .pass")
    owner.locator("#card-preview").screenshot(path=str(OUTPUT / f"{request.node.name}-preview.png"))
    owner.shot("branding")
    owner.context.close()

    with live_server.app.app_context():
        secret = db.session.scalar(select(LoyaltyCard.page_secret).join(Merchant).where(
            Merchant.slug == "kaffisbuttek").order_by(LoyaltyCard.id))
        db.session.remove()
    phone = open_page(playwright_browser, live_server.url, request,
                      viewport={"width": 390, "height": 844}, device_scale_factor=2,
                      is_mobile=True, has_touch=True, locale="en-GB")
    phone.goto(f"{phone.base}/card/{secret}")
    phone.shot("card-page")
    shown = phone.evaluate(FACE, ".customer-card .pass")
    assert phone.console_errors == []
    phone.context.close()

    assert approved["background"] == shown["background"] == "rgb(122, 31, 77)"
    assert approved["color"] == shown["color"] == "rgb(255, 233, 168)"
    assert approved["nameColor"] == shown["nameColor"]
    assert approved["logo"] and approved["logo"] == shown["logo"]
    assert approved["name"] == shown["name"] == "Kaffiskaart"
    assert approved["radius"] == shown["radius"]
    assert len(approved["labels"]) == len(shown["labels"]) == 1  # a stamp card (in its language)
    assert approved["code"] and shown["code"]

