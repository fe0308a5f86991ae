"""In Chromium on the tablet: an expired session lands on the sign-in page and back on the
terminal; the terminal and the sign-in page run under the Content Security Policy with no
console errors; the product's own messages replace the browser's validation bubbles."""
import re

import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import Customer, LoyaltyCard, User
from loyalty.services.platform import sessions

pytestmark = pytest.mark.browser

STAFF, PASSWORD = "staff@kaffisbuttek.lu", "demo-password"
SIGN_IN_AGAIN = re.compile(r"/login\?next=/terminal/$")


def _console_errors(page):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _sign_in(page):
    page.fill("#email", STAFF)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/terminal/")


def _end_sessions(app):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == STAFF))
        sessions.end_sessions_of(user.id, sessions.SIGNED_OUT)


def _card_number(app, email):
    with app.app_context():
        return db.session.scalar(select(LoyaltyCard.card_number).join(
            Customer, Customer.id == LoyaltyCard.customer_id).where(Customer.email == email))


def test_the_sign_in_page_and_terminal_run_under_the_csp_without_console_errors(tablet, live_server):
    errors = _console_errors(tablet)
    tablet.goto(tablet.base + "/login")
    assert "script-src 'self'" in tablet.evaluate(
        "fetch('/login').then(r => r.headers.get('content-security-policy'))")
    _sign_in(tablet)
    tablet.fill("#q", _card_number(live_server.app, "marie@example.lu").replace("-", ""))
    tablet.press("#q", "Enter")
    tablet.wait_for_selector(".card-panel")
    brand = tablet.evaluate(
        "getComputedStyle(document.querySelector('.card-head')).getPropertyValue('--brand')")
    assert brand.strip().startswith("#")  # the brand colour arrives without an inline style
    tablet.shot("terminal-card")
    assert errors == []


def test_an_empty_sign_in_shows_the_products_messages_not_the_browsers(tablet, live_server):
    tablet.goto(tablet.base + "/login")
    tablet.click(".lang-switch summary")  # the language menu: a form, no script needed
    tablet.shot("language-menu")
    tablet.click(".lang-switch button[lang=fr]")
    tablet.wait_for_selector("html[lang=fr]")
    tablet.click("button[type=submit]")  # no bubble stops it: the server answers in French
    tablet.wait_for_selector(".field-errors")
    assert "Saisissez votre adresse e-mail." in tablet.text_content("main form")
    tablet.shot("sign-in-errors")


def test_an_expired_session_during_a_find_lands_on_sign_in_and_back_on_the_terminal(
        tablet, live_server):
    tablet.goto(tablet.base + "/login")
    _sign_in(tablet)
    _end_sessions(live_server.app)
    tablet.fill("#q", _card_number(live_server.app, "marie@example.lu").replace("-", ""))
    tablet.press("#q", "Enter")
    tablet.wait_for_url(SIGN_IN_AGAIN)
    assert "Your session has ended. Sign in again." in tablet.text_content("#flashes")
    assert tablet.locator(".card-panel").count() == 0  # the whole page went, not the panel
    tablet.shot("sign-in-again")
    _sign_in(tablet)
    assert tablet.locator("#q").is_visible()


def test_an_expired_session_during_an_action_lands_on_sign_in_and_back_on_the_terminal(
        tablet, live_server):
    tablet.goto(tablet.base + "/login")
    _sign_in(tablet)
    tablet.fill("#q", _card_number(live_server.app, "marie@example.lu").replace("-", ""))
    tablet.press("#q", "Enter")
    tablet.wait_for_selector(".card-panel")
    tablet.click(".stamps .button.primary")  # the café asks for a PIN: the sheet opens
    tablet.wait_for_selector(".sheet .pinpad")
    _end_sessions(live_server.app)
    tablet.click(".pinpad .chip >> nth=0")
    for digit in "1234":
        tablet.click(f".pinpad .key[data-key='{digit}']")
    tablet.click(".sheet button[type=submit]")
    tablet.wait_for_url(SIGN_IN_AGAIN)
    assert tablet.locator(".sheet").count() == 0
    assert "Your session has ended. Sign in again." in tablet.text_content("#flashes")
    tablet.shot("sign-in-after-action")
    _sign_in(tablet)
    assert tablet.locator("#q").is_visible()
