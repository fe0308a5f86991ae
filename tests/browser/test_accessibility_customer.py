"""WCAG 2.1 AA on the customer pages (#23), on a phone (390x844), in English and French: axe-core
finds nothing on each page and state (a refused form included), every tappable thing is at least
44x44 CSS px, and the pages fit 320 px and a 200% zoom without sideways scrolling."""
import pytest
from sqlalchemy import select

from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import Customer, LoyaltyCard, LoyaltyProgram, Merchant
from loyalty.services.delivery import marketing
from loyalty.services.merchant import programs
from tests.browser.axe import violations
from tests.browser.conftest import open_page

pytestmark = pytest.mark.browser

SHOP = "kaffisbuttek"


def _a_card(live_server):
    """The card's secret, and its customer's unsubscribe token (they take offers by email)."""
    with live_server.app.app_context():
        card = db.session.scalar(select(LoyaltyCard).join(Merchant).where(
            Merchant.slug == SHOP, LoyaltyCard.is_active.is_(True)).order_by(LoyaltyCard.id))
        secret = card.page_secret
        with write_transaction():
            marketing.record_consent(db.session.get(Customer, card.customer_id), True,
                                     source="card_page")
        token = marketing.unsubscribe_token(card.customer_id)
        db.session.remove()
    return secret, token


def _customer_pages(page, card):
    """Each customer page and state as (label, how to get there), in the page's language."""
    base = page.base
    secret, token = card
    yield "program", lambda: page.goto(f"{base}/m/{SHOP}/")
    yield "join", lambda: page.goto(f"{base}/m/{SHOP}/join")

    def refused_join():
        page.goto(f"{base}/m/{SHOP}/join")
        page.locator("#email").fill("not an address")
        page.locator("#join-form button[type=submit]").click()
        page.locator(".error-summary").wait_for()
    yield "join-refused", refused_join

    def refused_link():
        page.goto(f"{base}/m/{SHOP}/")
        page.locator("#card-link button[type=submit]").click()
        page.locator("#card-link .error-summary").wait_for()
    yield "card-link-refused", refused_link
    yield "joined", lambda: page.goto(f"{base}/m/{SHOP}/join/sent")
    yield "joined-asked", lambda: page.goto(f"{base}/m/{SHOP}/join/sent?asked=link")
    yield "card", lambda: page.goto(f"{base}/card/{secret}")
    yield "card-welcome", lambda: page.goto(f"{base}/card/{secret}?welcome=1")
    yield "erase", lambda: page.goto(f"{base}/card/{secret}/delete")

    def refused_erase():
        page.goto(f"{base}/card/{secret}/delete")
        page.locator("form button[type=submit].danger").click()
        page.locator(".error-summary").wait_for()
    yield "erase-refused", refused_erase
    yield "erased", lambda: page.goto(f"{base}/m/{SHOP}/deleted")
    yield "card-not-found", lambda: page.goto(f"{base}/card/no-such-card")
    yield "handoff-refused", lambda: page.goto(f"{base}/c/no-such-token")
    yield "accessibility", lambda: page.goto(f"{base}/accessibility")
    yield "unsubscribe", lambda: page.goto(f"{base}/unsubscribe/{token}")

    def unsubscribed():
        page.goto(f"{base}/unsubscribe/{token}")
        button = page.locator("main form button[type=submit]")
        if button.count():  # not yet unsubscribed in this test
            button.click()
            page.wait_for_load_state()
    yield "unsubscribed", unsubscribed
    yield "unsubscribe-not-found", lambda: page.goto(f"{base}/unsubscribe/no-such-token")


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
def test_customer_pages_pass_axe_on_a_phone(playwright_browser, live_server, request, locale):
    page = open_page(playwright_browser, live_server.url, request, locale=locale,
                     viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                     bypass_csp=True)  # axe is added to the page as a script
    card = _a_card(live_server)
    # the language picked, as the menu leaves it (else a card opens in its customer's language)
    page.context.add_cookies([{"name": "lang", "value": locale[:2], "url": live_server.url}])
    found = []
    for label, visit in _customer_pages(page, card):
        visit()
        assert page.locator("html").get_attribute("lang") == locale[:2], label
        page.shot(label)
        found += [f"{label}: {line}" for line in violations(page)]
    page.context.close()
    assert found == [], "\n".join(found)


#: Every control whose box is smaller than 44x44 CSS px, but for links inside a sentence (a
#: paragraph with more text than the link) and what is hidden (a closed menu, the honeypot).
SMALL_TARGETS = """() => {
  const small = [];
  for (const el of document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, textarea, summary')) {
    if (el.closest('[aria-hidden=true]')) continue;
    const target = ['checkbox', 'radio'].includes(el.type) ? (el.closest('label') || el) : el;
    const box = target.getBoundingClientRect();
    if (!box.width || !box.height) continue;
    const sentence = el.tagName === 'A' && el.closest('p');
    if (sentence && sentence.textContent.trim() !== el.textContent.trim()) continue;
    if (box.width < 44 || box.height < 44) {
      small.push(`${el.outerHTML.slice(0, 90)} ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return small;
}"""
FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def test_everything_to_tap_is_at_least_44_px(playwright_browser, live_server, request):
    page = open_page(playwright_browser, live_server.url, request, locale="fr-FR",
                     viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    found = []
    for label, visit in _customer_pages(page, _a_card(live_server)):
        visit()
        found += [f"{label}: {line}" for line in page.evaluate(SMALL_TARGETS)]
        page.locator(".lang-switch summary").click()  # the open menu's buttons too
        found += [f"{label} (menu): {line}" for line in page.evaluate(SMALL_TARGETS)]
    page.context.close()
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("screen", [
    {"viewport": {"width": 320, "height": 640}},  # the narrowest phone WCAG asks for
    # a 390 px phone zoomed to 200%: the page lays out in half as many CSS pixels
    {"viewport": {"width": 195, "height": 422}, "device_scale_factor": 4},
], ids=["320px", "zoom-200"])
def test_customer_pages_fit_without_sideways_scrolling(playwright_browser, live_server, request,
                                                       screen):
    with live_server.app.app_context():  # long words, as a shop may well write them
        merchant = db.session.scalar(select(Merchant).where(Merchant.slug == SHOP))
        merchant.name = "Kaffisbuttek-Bäckereikonditorei"
        program = db.session.scalar(select(LoyaltyProgram).where(
            LoyaltyProgram.merchant_id == merchant.id, LoyaltyProgram.is_active.is_(True)))
        programs.update_program(program, card_name="Treuekartenstempelsammelheft")
        db.session.commit()
        db.session.remove()
    page = open_page(playwright_browser, live_server.url, request, locale="de-DE",
                     is_mobile=True, has_touch=True, **screen)
    too_wide = []
    for label, visit in _customer_pages(page, _a_card(live_server)):
        visit()
        if not page.evaluate(FITS):
            page.shot(label)
            too_wide.append(f"{label}: {page.evaluate('document.documentElement.scrollWidth')} px")
        page.locator(".lang-switch summary").click()  # the open menu stays on screen
        if not page.evaluate(FITS):
            too_wide.append(f"{label} (menu open)")
    page.context.close()
    assert too_wide == []


def _tab_to(page, selector, limit=40):
    """Press Tab until the focused element matches ``selector``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_a_customer_joins_with_the_keyboard_alone(playwright_browser, live_server, request):
    page = open_page(playwright_browser, live_server.url, request, locale="en-GB",
                     viewport={"width": 390, "height": 844})
    page.goto(f"{page.base}/m/{SHOP}/")
    _tab_to(page, f"a[href='/m/{SHOP}/join']")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Join").wait_for()
    _tab_to(page, "#first_name")
    page.keyboard.type("Kim")
    page.keyboard.press("Tab")
    page.keyboard.type("Keyboard")
    page.keyboard.press("Tab")
    page.keyboard.type("kim.keyboard@example.com")
    _tab_to(page, "#consent")
    page.keyboard.press("Space")
    assert page.locator("#consent").is_checked()
    _tab_to(page, "#join-form button[type=submit]")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Your card is on its way").wait_for()
    page.shot("joined")
    page.context.close()
