"""What a person typed is still there in Chromium after what takes them away from it: a language
switch on the join form (phone), tabs of the texts page, the program's kind, and a session that
ended before an owner's form was sent (laptop). The purchase amount kept through a PIN unlock
at the counter is checked in test_terminal_fit."""
import pytest

from loyalty.extensions import db
from loyalty.models import LoyaltyProgram, User
from loyalty.services.platform import sessions
from tests.browser.conftest import open_page

pytestmark = pytest.mark.browser

OWNER, PASSWORD = "owner@kaffisbuttek.lu", "demo-password"


def _sign_in(page, email=OWNER):
    page.goto(page.base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/merchant/")


@pytest.fixture
def phone(playwright_browser, live_server, request):
    page = open_page(playwright_browser, live_server.url, request,
                     viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                     locale="en-GB")
    yield page
    page.context.close()


def test_switching_language_on_the_join_form_keeps_what_was_typed(phone):
    phone.goto(f"{phone.base}/m/kaffisbuttek/join")
    phone.get_by_label("First name").fill("Chloé")
    phone.get_by_label("Last name").fill("Muller")
    phone.get_by_label("Email", exact=True).fill("chloe@example.com")
    phone.get_by_label("Phone (optional)").fill("621 123 456")
    phone.locator("input[name=consent]").check()
    phone.click(".lang-switch summary")
    phone.click(".lang-switch button[lang=fr]")
    phone.get_by_role("button", name="Obtenir ma carte").wait_for()
    phone.shot("join-in-french")
    assert phone.get_by_label("Prénom").input_value() == "Chloé"
    assert phone.get_by_label("Nom", exact=True).input_value() == "Muller"
    assert phone.get_by_label("E-mail", exact=True).input_value() == "chloe@example.com"
    assert phone.locator("input[name=phone]").input_value() == "621 123 456"
    assert phone.locator("input[name=consent]").is_checked()
    assert phone.locator("select#language").input_value() == "fr"  # emails follow the page
    phone.get_by_role("button", name="Obtenir ma carte").click()
    phone.get_by_role("heading", name="Votre carte est en route").wait_for()


def test_switching_tabs_on_the_texts_page_keeps_what_was_typed(laptop, live_server):
    _sign_in(laptop)
    laptop.goto(laptop.base + "/merchant/languages")
    assert laptop.locator("#texts-de").is_hidden()  # one language shows at a time
    laptop.fill("#en-card_name", "Coffee card")
    laptop.click(".tabs a[lang=de]")
    assert laptop.locator("#texts-en").is_hidden() and laptop.locator("#texts-de").is_visible()
    laptop.fill("#de-card_name", "Kaffeekarte")
    laptop.click(".tabs a[lang=fr]")
    laptop.fill("#fr-card_name", "Carte café")
    laptop.click(".tabs a[lang=en]")
    assert laptop.input_value("#en-card_name") == "Coffee card"
    laptop.click(".tabs a[lang=de]")
    assert laptop.input_value("#de-card_name") == "Kaffeekarte"
    laptop.shot("texts-de")
    laptop.click("text=Save the texts")
    laptop.wait_for_selector(".flash:has-text('Texts saved.')")
    assert laptop.url.endswith("/merchant/languages?lang=de")  # back on the tab it was on
    assert laptop.locator("#texts-de").is_visible()
    with live_server.app.app_context():
        translations = db.session.scalar(db.select(LoyaltyProgram).where(
            LoyaltyProgram.card_name == "Kaffiskaart")).translations
        db.session.remove()
    assert {code: texts.get("card_name") for code, texts in translations.items()} == {
        "en": "Coffee card", "de": "Kaffeekarte", "fr": "Carte café"}
    assert translations["fr"]["stamp_reward_description"] == "un café de votre choix offert"
    assert laptop.console_errors == []


def test_switching_the_programs_kind_and_back_keeps_what_was_typed(laptop):
    _sign_in(laptop)
    laptop.goto(laptop.base + "/merchant/program")
    laptop.fill("#stamps_target", "12")
    laptop.fill("#stamp_reward_description", "Two coffees")
    laptop.select_option("#program_type", "points")
    laptop.wait_for_selector("#points_per_euro")
    assert laptop.locator("#stamps_target").count() == 0
    laptop.fill("#points_per_euro", "7")
    laptop.select_option("#program_type", "stamps")
    laptop.wait_for_selector("#stamps_target")
    assert laptop.input_value("#stamps_target") == "12"
    assert laptop.input_value("#stamp_reward_description") == "Two coffees"
    laptop.select_option("#program_type", "hybrid")
    laptop.wait_for_selector("#points_per_euro")
    assert laptop.input_value("#points_per_euro") == "7"
    assert laptop.input_value("#stamps_target") == "12"
    laptop.shot("program-hybrid")


def test_a_form_sent_after_the_session_ended_comes_back_filled_after_sign_in(laptop,
                                                                              live_server):
    _sign_in(laptop)
    laptop.goto(laptop.base + "/merchant/stores")
    laptop.fill("#name", "Belair")
    laptop.fill("#code", "BELAIR")
    laptop.fill("#address", "10 Avenue Gaston Diderich")
    with live_server.app.app_context():  # signed out elsewhere while the form was open
        owner = db.session.scalar(db.select(User).where(User.email == OWNER))
        sessions.end_sessions_of(owner.id, sessions.SIGNED_OUT_EVERYWHERE)
        db.session.remove()
    laptop.click("form:has(#code) button[type=submit]")
    laptop.wait_for_url("**/login?next=/merchant/stores")
    laptop.fill("#email", OWNER)
    laptop.fill("#password", PASSWORD)
    laptop.click("button[type=submit]")
    laptop.wait_for_url("**/merchant/stores")
    laptop.shot("back-on-the-form")
    assert "What you typed is back in the form. Check it and send it again." in laptop.text_content("body")
    assert laptop.input_value("#name") == "Belair"
    assert laptop.input_value("#code") == "BELAIR"
    assert laptop.input_value("#address") == "10 Avenue Gaston Diderich"
    assert laptop.locator("text=BELAIR").count() == 0  # not added until sent again
    laptop.click("form:has(#code) button[type=submit]")
    laptop.wait_for_selector(".flash:has-text('Store added.')")
