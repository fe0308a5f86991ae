"""A customer on their phone (390x844): joins in French from the shop's page, gets the welcome
email, opens their card from its link and shows a QR code that reads back as their card's
token; the owner's counter poster carries a code that opens the join form."""
import io
from urllib.parse import urlsplit

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import Customer, LoyaltyCard, SentEmail
from tests.browser.conftest import OUTPUT, open_page

pytestmark = pytest.mark.browser


def _read_qr(element):
    """The text of the QR code drawn in ``element``, read from a screenshot of it."""
    code = Image.open(io.BytesIO(element.screenshot())).convert("L")
    image = Image.new("L", (code.width + 80, code.height + 80), 255)  # a quiet zone around it
    image.paste(code, (40, 40))
    return [result.text for result in zxingcpp.read_barcodes(image)]


@pytest.fixture
def phone(playwright_browser, live_server, request):
    page = open_page(playwright_browser, live_server.url, request,
                     viewport={"width": 390, "height": 844}, device_scale_factor=2,
                     is_mobile=True, has_touch=True, locale="fr-FR")
    yield page
    page.context.close()


def test_a_customer_joins_in_french_and_opens_their_card(phone, live_server):
    phone.goto(f"{phone.base}/m/kaffisbuttek/")
    assert phone.locator("html").get_attribute("lang") == "fr"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    phone.shot("1-program-fr")
    phone.get_by_role("link", name="S'inscrire", exact=True).click()

    phone.get_by_label("Prénom").fill("Chloé")
    phone.get_by_label("Nom", exact=True).fill("Muller")
    phone.get_by_label("E-mail", exact=True).fill("chloe.phone@example.com")
    assert phone.locator("select#language").input_value() == "fr"
    phone.locator("input[name=consent]").check()
    phone.shot("2-join-fr")
    phone.get_by_role("button", name="Obtenir ma carte").click()
    phone.get_by_role("heading", name="Votre carte est en route").wait_for()
    phone.shot("3-joined-fr")

    with live_server.app.app_context():
        welcome = db.session.scalar(select(SentEmail).where(
            SentEmail.to_address == "chloe.phone@example.com"))
        card = db.session.scalar(select(LoyaltyCard).join(Customer).where(
            Customer.email == "chloe.phone@example.com"))
        token, number = card.qr_token, card.card_number
        db.session.remove()
    assert welcome.template == "welcome" and welcome.locale == "fr"
    assert welcome.subject.startswith("Bienvenue chez Café Kaffisbuttek")
    link = next(word for word in welcome.body_text.split() if "/card/" in word)
    assert link.startswith(f"{phone.base}/card/")  # the address the phone opened

    phone.goto(phone.base + urlsplit(link).path)  # the same path on the test server
    assert phone.locator("html").get_attribute("lang") == "fr"
    assert phone.get_by_test_id("card-number").inner_text() == number
    qr = phone.locator("figure.qr svg")
    phone.shot("4-card-fr")
    assert qr.bounding_box()["width"] >= 200  # big enough for a counter scanner
    assert _read_qr(qr) == [token]
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    phone.locator(".lang-switch summary").click()
    phone.get_by_role("button", name="Lëtzebuergesch").click()
    assert phone.locator("html").get_attribute("lang") == "lb"
    phone.get_by_role("heading", name="Meng Daten").wait_for()
    phone.shot("5-card-lb")
    assert phone.console_errors == []


def test_the_owner_prints_the_counter_poster(playwright_browser, live_server, request):
    page = open_page(playwright_browser, live_server.url, request,
                     viewport={"width": 1440, "height": 900}, locale="en-GB")
    page.goto(f"{page.base}/login")
    page.fill("input[name=email]", "owner@kaffisbuttek.lu")
    page.fill("input[name=password]", "demo-password")
    page.click("button[type=submit]")
    page.goto(f"{page.base}/merchant/poster")
    page.shot("a4")
    codes = _read_qr(page.locator(".poster-qr svg"))
    assert codes == [f"{page.base}/m/kaffisbuttek/join"]  # the address served
    assert page.get_by_test_id("public-address-warning").inner_text().startswith(
        "Phones cannot open links to 127.0.0.1: this address only works on this computer.")
    page.get_by_label("A6 (on the counter)").check()
    page.get_by_role("button", name="Update the preview").click()
    page.locator(".poster-a6").wait_for()
    page.emulate_media(media="print")
    assert page.locator(".side-nav").is_hidden() and page.locator(".poster-tools").is_hidden()
    page.locator(".poster").screenshot(path=str(OUTPUT / f"{request.node.name}-a6-print.png"))
    assert _read_qr(page.locator(".poster-qr svg")) == codes
    page.context.close()
