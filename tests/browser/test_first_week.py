"""A shop's first week, from nothing, at the devices' sizes (#21): the platform admin creates
the merchant (no demo data); the owner sets a password from the invitation, walks every step
of the set-up checklist and resets a forgotten password by email; a customer joins on a phone
(390x844) from the poster's QR code, reads the welcome email and opens the card; staff stamp on
a tablet (1280x800); a customer enrolled at the counter without an email gets the card onto
their phone from the terminal's QR code, and the code is refused the second time. Screenshots
of each step go to test-output/browser/test_a_shop_goes_from_nothing_to_its_first_stamps-*.png.
"""
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import SentEmail
from loyalty.services.platform import accounts
from tests.browser.conftest import open_page
from tests.browser.test_storefront_phone import _read_qr

pytestmark = pytest.mark.browser

ADMIN, ADMIN_PASSWORD = "admin@platform.test", "admin-password-1"
OWNER, OWNER_NAME = "lea@boulangerie-letz.test", "Léa Owner"
FIRST_PASSWORD, NEW_PASSWORD = "first-password-9", "second-password-9"
CUSTOMER = "chloe@phone.test"


@pytest.fixture
def empty_server(make_app, serve):
    """The app with nothing in it but a platform admin."""
    app = make_app()
    with app.app_context():
        accounts.register_user(ADMIN, ADMIN_PASSWORD, "Platform Admin", is_platform_admin=True)
        db.session.remove()
    return serve(app)


def _last_email(server, to, template):
    with server.app.app_context():
        email = db.session.scalar(select(SentEmail).where(
            SentEmail.to_address == to, SentEmail.template == template)
            .order_by(SentEmail.id.desc()))
        db.session.remove()
    assert email is not None, f"no {template} email to {to}"
    return email


def _link_in(email, marker):
    """The path of the first link in the email's text that contains ``marker``."""
    url = next(word for word in email.body_text.split() if marker in word)
    return urlsplit(url).path


def _sign_in(page, email, password):
    page.goto(page.base + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")


def _fits(page, locator, height):
    box = page.locator(locator).last.bounding_box()
    assert box is not None and box["y"] + box["height"] <= height, locator


def _step_link(page, label):
    """Follow the checklist's link for ``label`` from the start page."""
    page.goto(page.base + "/merchant/")
    page.locator(".checklist").get_by_role("link", name=label).click()


def test_a_shop_goes_from_nothing_to_its_first_stamps(playwright_browser, empty_server, request):
    server = empty_server

    def device(**context):
        return open_page(playwright_browser, server.url, request, **context)

    laptop = device(viewport={"width": 1440, "height": 900}, locale="en-GB")
    shots = iter(range(1, 100))

    def shot(page, label):
        page.shot(f"{next(shots):02d}-{label}")

    # --- Monday: the platform admin creates the merchant ----------------------------------
    _sign_in(laptop, ADMIN, ADMIN_PASSWORD)
    laptop.get_by_role("heading", name="Dashboard").wait_for()
    assert "Phones cannot open links to 127.0.0.1" in laptop.text_content("main")
    shot(laptop, "admin-dashboard-address-warning")
    laptop.goto(laptop.base + "/admin/merchants/new")
    laptop.get_by_label("Name", exact=True).press_sequentially("Boulangerie Lëtz")
    assert laptop.get_by_label("Web address").input_value() == "boulangerie-letz"
    laptop.fill("input[name=owner_name]", OWNER_NAME)
    laptop.fill("input[name=owner_email]", OWNER)
    shot(laptop, "admin-new-merchant")
    laptop.get_by_role("button", name="Create the merchant").click()
    laptop.get_by_text("Merchant created; its owner has been invited by email.").wait_for()
    laptop.get_by_role("button", name="Sign out").click()

    # --- the owner chooses a password from the invitation and is signed in ----------------
    invitation = _last_email(server, OWNER, "team_invitation")
    laptop.goto(laptop.base + _link_in(invitation, "/set-password/"))
    laptop.fill("input[name=new_password]", FIRST_PASSWORD)
    laptop.fill("input[name=confirm_password]", FIRST_PASSWORD)
    shot(laptop, "owner-chooses-password")
    laptop.locator("main button[type=submit]").click()
    laptop.wait_for_url("**/merchant/")
    checklist = laptop.locator(".checklist")
    assert "0 of 7 steps done." in checklist.text_content()
    shot(laptop, "checklist-start")

    # --- every checklist step, in order, from the checklist's own links -------------------
    _step_link(laptop, "Create your loyalty program")
    laptop.fill("#card_name", "Lëtz card")
    laptop.fill("#stamp_reward_description", "A free croissant")
    laptop.fill("#stamp_reward_value", "2.20")
    shot(laptop, "step-1-program")
    laptop.get_by_role("button", name="Create program").click()
    laptop.get_by_text("Your program is saved.").wait_for()

    laptop.goto(laptop.base + "/merchant/")  # a stamp card needs no catalogue reward
    assert laptop.locator("[data-step=reward].done").count() == 1
    _step_link(laptop, "Add your store")
    laptop.fill("#name", "Place d'Armes")
    laptop.fill("#code", "PA")
    shot(laptop, "step-3-store")
    laptop.locator("main form button[type=submit]").first.click()
    laptop.get_by_text("Place d'Armes").first.wait_for()

    _step_link(laptop, "Add a staff PIN")
    laptop.fill("#staff_name", "Paul")
    laptop.click("text=Add and show the PIN")
    pin = laptop.text_content("[data-testid=revealed-pin]")
    assert re.fullmatch(r"\d{4}", pin)
    shot(laptop, "step-4-pin")

    _step_link(laptop, "Switch the program on")
    shot(laptop, "step-5-switch-on")
    laptop.locator("main form button[type=submit]").first.click()
    laptop.wait_for_load_state()

    _step_link(laptop, "Print the counter poster")
    assert "Phones cannot open links to 127.0.0.1" in laptop.text_content("main")
    with laptop.expect_response("**/merchant/poster/printed*"):
        laptop.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    [join_url] = _read_qr(laptop.locator(".poster-qr svg"))
    assert join_url == f"{server.url}/m/boulangerie-letz/join"  # the address actually served
    shot(laptop, "step-6-poster")
    laptop.goto(laptop.base + "/merchant/")
    assert "6 of 7 steps done." in laptop.text_content(".checklist")
    shot(laptop, "checklist-6-of-7")

    # --- the owner forgot the password: a reset by email ------------------------------------
    laptop.get_by_role("button", name="Sign out").click()
    laptop.goto(laptop.base + "/login")
    laptop.get_by_role("link", name="Forgot your password?").click()
    laptop.fill("input[name=email]", OWNER)
    laptop.get_by_role("button", name="Email me a link").click()
    laptop.get_by_text("a link to choose a new password is on its way").wait_for()
    reset = _last_email(server, OWNER, "password_reset")
    laptop.goto(laptop.base + _link_in(reset, "/set-password/"))
    laptop.fill("input[name=new_password]", NEW_PASSWORD)
    laptop.fill("input[name=confirm_password]", NEW_PASSWORD)
    shot(laptop, "owner-resets-password")
    laptop.locator("main button[type=submit]").click()
    laptop.wait_for_url("**/merchant/")
    laptop.context.close()

    # --- Tuesday: a customer joins on a phone from the poster's code ------------------------
    phone = device(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                   is_mobile=True, has_touch=True, locale="en-GB")
    phone.goto(join_url)
    phone.get_by_label("First name").fill("Chloé")
    phone.get_by_label("Last name").fill("Muller")
    phone.get_by_label("Email", exact=True).fill(CUSTOMER)
    phone.locator("input[name=consent]").check()
    shot(phone, "phone-join")
    phone.get_by_role("button", name="Get my card").click()
    phone.get_by_role("heading", name="Your card is on its way").wait_for()
    shot(phone, "phone-joined")
    welcome = _last_email(server, CUSTOMER, "welcome")
    phone.goto(phone.base + _link_in(welcome, "/card/"))
    card_number = phone.get_by_test_id("card-number").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "phone-card-empty")

    # --- at the counter: the first stamp on the tablet --------------------------------------
    tablet = device(viewport={"width": 1280, "height": 800}, has_touch=True, locale="en-GB")
    _sign_in(tablet, OWNER, NEW_PASSWORD)
    tablet.goto(tablet.base + "/terminal/")
    tablet.fill("#q", "Chloé")
    tablet.press("#q", "Enter")
    tablet.wait_for_selector(".card-panel")
    assert card_number in tablet.text_content(".card-panel")
    tablet.locator(".card-panel").get_by_role("button", name="Add stamp").click()
    tablet.wait_for_selector(".sheet")
    for digit in pin:
        tablet.click(f".pinpad .key[data-key='{digit}']")
    _fits(tablet, ".sheet button[type=submit]", 800)
    shot(tablet, "tablet-stamp-sheet")
    tablet.locator(".sheet button[type=submit]").click()
    tablet.wait_for_selector("[data-testid=stamp-count]:text-is('1')")
    shot(tablet, "tablet-first-stamp")

    phone.reload()
    assert phone.locator(".stamp.filled").count() == 1
    shot(phone, "phone-card-first-stamp")

    # --- a customer without an email, enrolled at the counter, opens the card on a phone ----
    tablet.get_by_role("button", name="New customer").click()
    tablet.fill("#name", "Walter Walkin")
    tablet.fill("#phone", "621 555 123")
    shot(tablet, "tablet-enrol-without-email")
    tablet.locator("#sheet button[type=submit], .sheet button[type=submit]").last.click()
    tablet.get_by_role("heading", name="Walter Walkin").wait_for()
    tablet.get_by_role("button", name="Card on their phone").click()
    _fits(tablet, ".sheet button:text('Done')", 800)
    shot(tablet, "tablet-card-on-their-phone")
    [handoff] = _read_qr(tablet.get_by_test_id("phone-link-qr").locator("svg"))
    assert handoff.startswith(f"{server.url}/c/")

    walter = device(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                    is_mobile=True, has_touch=True, locale="en-GB")
    walter.goto(handoff)
    walter.get_by_test_id("handoff-welcome").wait_for()
    assert "Walter Walkin" in walter.text_content("main")
    shot(walter, "walter-card-on-phone")
    again = walter.goto(handoff)
    assert again.status == 410
    walter.get_by_role("heading", name="Ask for a new QR code").wait_for()
    shot(walter, "walter-second-scan-refused")

    # --- the checklist is complete ----------------------------------------------------------
    tablet.goto(tablet.base + "/merchant/")
    tablet.get_by_test_id("setup-complete").wait_for()
    assert "7 of 7 steps done" in tablet.text_content("[data-testid=setup-complete]")
    shot(tablet, "setup-complete")
    for page in (phone, tablet, walter):
        assert [e for e in page.console_errors if "410" not in e] == []
        page.context.close()
