"""The birthday in the browser: the owner sets the bonus on a laptop and reads the email's
preview in four languages; a customer on their phone gives their birthday on the join form, and
on their card's page is refused a day that does not exist (what they chose stays), then saves
a right one, by keyboard. axe finds nothing on any of these pages."""
import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import Customer, LoyaltyCard, LoyaltyProgram, Merchant
from loyalty.services.merchant import programs
from tests.browser.axe import violations
from tests.browser.conftest import OUTPUT, open_page

pytestmark = pytest.mark.browser

OWNER, PASSWORD, SHOP = "owner@kaffisbuttek.lu", "demo-password", "kaffisbuttek"


def _sign_in(page):
    page.goto(f"{page.base}/login")
    page.fill("#email", OWNER)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def test_the_owner_sets_a_birthday_bonus_and_previews_its_email(playwright_browser, live_server,
                                                              request, laptop):
    page = open_page(playwright_browser, live_server.url, request, locale="en-GB",
                     viewport={"width": 1440, "height": 900},
                     bypass_csp=True)  # axe is added to the page as a script
    _sign_in(page)
    page.goto(f"{page.base}/merchant/")
    page.get_by_role("link", name="Birthday bonus").click()
    page.get_by_role("heading", name="Birthday bonus", level=1).wait_for()
    page.get_by_label("Birthday bonus in stamps").fill("101")
    page.get_by_label("Days before the birthday").fill("3")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Enter a number of stamps from 0 to 100.").first.wait_for()
    assert page.locator("#birthday_bonus_stamps").input_value() == "101"
    assert page.locator("#birthday_days_ahead").input_value() == "3"
    assert violations(page) == []
    page.shot("1-refused")
    page.get_by_label("Birthday bonus in stamps").fill("2")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Birthday bonus saved.").wait_for()
    assert violations(page) == []
    page.context.close()

    # The previews as the owner's browser shows them, its security policy on: the email's
    # own styles apply inside each sandboxed frame.
    _sign_in(laptop)
    laptop.goto(f"{laptop.base}/merchant/birthday")
    greetings = {"en": "Happy birthday, Alex!", "fr": "Joyeux anniversaire, Alex !",
                 "de": "Alles Gute zum Geburtstag, Alex!",
                 "lb": "Alles Guddes fir de Gebuertsdag, Alex!"}
    for code, greeting in greetings.items():
        body = laptop.frame_locator(f"[data-testid=preview-{code}] iframe").locator("body")
        assert greeting in body.inner_text()
        assert "2 stamps" in body.inner_text() or code != "en"
    laptop.shot("2-saved-with-previews")
    preview = laptop.locator("[data-testid=preview-lb]")
    preview.scroll_into_view_if_needed()
    preview.screenshot(path=str(OUTPUT / "birthday-owner-3-preview-lb.png"))


@pytest.fixture
def phone(playwright_browser, live_server, request):
    with live_server.app.app_context():
        program = db.session.scalar(select(LoyaltyProgram).join(Merchant).where(
            Merchant.slug == SHOP))
        programs.update_program(program, birthday_bonus_stamps=1)
        db.session.remove()
    page = open_page(playwright_browser, live_server.url, request,
                     viewport={"width": 390, "height": 844}, device_scale_factor=2,
                     is_mobile=True, has_touch=True, locale="en-GB",
                     bypass_csp=True)  # axe is added to the page as a script
    yield page
    page.context.close()


def test_a_customer_gives_their_birthday_on_a_phone(phone, live_server):
    phone.goto(f"{phone.base}/m/{SHOP}/join")
    assert "we never ask for the year" in phone.locator("main").inner_text()
    phone.get_by_label("First name").fill("Bea")
    phone.get_by_label("Last name").fill("Birthday")
    phone.locator("#email").fill("bea.birthday@example.com")
    phone.locator("#birth_day").select_option("29")
    phone.locator("#birth_month").select_option("2")
    phone.locator("input[name=consent]").check()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert violations(phone) == []
    phone.shot("1-join")
    phone.get_by_role("button", name="Get my card").click()
    phone.wait_for_load_state()

    with live_server.app.app_context():
        customer = db.session.scalar(select(Customer).where(
            Customer.email == "bea.birthday@example.com"))
        assert (customer.birth_day, customer.birth_month) == (29, 2)
        secret = db.session.scalar(select(LoyaltyCard.page_secret).where(
            LoyaltyCard.customer_id == customer.id))
        db.session.remove()

    phone.goto(f"{phone.base}/card/{secret}")
    assert phone.locator("#birth_day").input_value() == "29"
    # by keyboard: 31 April does not exist
    phone.locator("#birth_day").focus()
    phone.locator("#birth_day").select_option("31")
    phone.keyboard.press("Tab")
    phone.locator("#birth_month").select_option("4")
    phone.get_by_role("button", name="Save my birthday").focus()
    phone.keyboard.press("Enter")
    phone.get_by_text("This day does not exist in that month").first.wait_for()
    assert phone.locator("#birth_day").input_value() == "31"
    assert phone.locator("#birth_month").input_value() == "4"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert violations(phone) == []
    phone.shot("2-card-refused")
    phone.locator("#birth_day").select_option("30")
    phone.get_by_role("button", name="Save my birthday").click()
    phone.get_by_text("Your birthday is saved.").wait_for()
    assert violations(phone) == []
    phone.locator("#birthday").screenshot(path=str(OUTPUT / "birthday-phone-3-saved.png"))
    with live_server.app.app_context():
        customer = db.session.scalar(select(Customer).where(
            Customer.email == "bea.birthday@example.com"))
        assert (customer.birth_day, customer.birth_month) == (30, 4)
        db.session.remove()

