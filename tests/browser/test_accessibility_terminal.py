"""The counter terminal against WCAG 2.1 AA (#23), in the browser: axe on the counter screen and
on every sheet, on a tablet held both ways, in English and in French; every sheet is a dialog
that takes the focus, keeps Tab inside, closes on Escape and gives the focus back; a whole
counter action done from the keyboard only; every button and field a finger can hit (44x44)."""
import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import LoyaltyCard, StaffPin, Store
from loyalty.services.merchant import programs
from tests.browser.axe import assert_accessible
from tests.browser.conftest import open_page
from tests.browser.test_terminal_flow import BAKERY_STAFF, CAFE_STAFF, _card_of, _sign_in, _stamps, _type_pin

pytestmark = pytest.mark.browser

SIZES = {"landscape": {"width": 1280, "height": 800}, "portrait": {"width": 800, "height": 1280}}
LOCALES = {"en": "en-GB", "fr": "fr-FR"}
TAP = 44


@pytest.fixture(params=[(size, lang) for size in SIZES for lang in LOCALES], ids=lambda p: "-".join(p))
def counter(request, playwright_browser, live_server):
    size, lang = request.param
    page = open_page(playwright_browser, live_server.url, request, viewport=SIZES[size],
                     locale=LOCALES[lang], has_touch=True, bypass_csp=True)  # axe is injected
    page.lang = lang
    yield page
    page.context.close()


def _find(page, text):
    page.fill("#q", text)
    page.press("#q", "Enter")


def _open(page, number):
    _find(page, number.replace("-", ""))
    page.wait_for_selector(".card-panel")


def _sheet(page, selector):
    page.click(selector)
    page.wait_for_selector("#sheet .sheet[role=dialog]")


def _close(page):
    page.click("#sheet [data-close-sheet] >> nth=0")
    page.wait_for_selector("#sheet .sheet", state="detached")


def _check(page, label):
    page.wait_for_timeout(50)  # let htmx settle its classes
    page.shot(label)
    assert_accessible(page, label)


def test_the_cafe_counter_and_its_sheets_pass_axe(counter, live_server):
    app = live_server.app
    _id, number = _card_of(app, "marie@example.lu")
    with app.app_context():
        tom = db.session.scalar(select(StaffPin.id).join(Store, Store.id == StaffPin.store_id)
                                .where(Store.code == "GARE", StaffPin.staff_name == "Tom"))
    _sign_in(counter, CAFE_STAFF)
    assert counter.get_attribute("html", "lang") == counter.lang
    assert counter.locator("main h1").count() == 1  # the counter is named, if only for a screen reader
    _check(counter, "counter")
    _find(counter, "Wagner")
    counter.wait_for_selector(".results .result")
    _check(counter, "results")
    _open(counter, number)
    _check(counter, "stamp-card")
    _sheet(counter, "[hx-get$='/sheet/stamp']")
    _check(counter, "stamp-sheet")
    counter.click(".chip:has-text('Tom')")
    _type_pin(counter, "0000")
    counter.click("#sheet button[type=submit]")
    counter.wait_for_selector("#sheet .banner-error")
    _check(counter, "stamp-sheet-wrong-pin")
    _type_pin(counter, "1234")
    counter.click("#sheet button[type=submit]")
    counter.wait_for_selector(".card-panel > .banner-success")
    _check(counter, "stamp-added")
    _sheet(counter, ".history .button.danger >> nth=0")
    _check(counter, "void-stamp-sheet")
    _close(counter)
    _sheet(counter, "[data-testid=phone-link]")
    _check(counter, "phone-link-sheet")
    _close(counter)
    unlock = f"/terminal/cards/{_id}/unlock/{tom}?kind=stamp"
    counter.evaluate("url => htmx.ajax('GET', url, '#sheet')", unlock)
    counter.wait_for_selector("#unlock-title")
    _check(counter, "unlock-by-password")
    counter.click(".chip:has(input[value=pin])")
    counter.wait_for_selector(".unlock-pin .pinpad", state="visible")
    _check(counter, "unlock-by-pin")
    _close(counter)
    _sheet(counter, "[hx-get$='/terminal/enroll']")
    _check(counter, "enrol-sheet")
    counter.click("#sheet button[type=submit]")
    counter.wait_for_selector("#sheet .banner-error, #sheet [aria-invalid=true]")
    _check(counter, "enrol-sheet-error")
    _close(counter)
    counter.goto(counter.base + "/terminal/store")
    _check(counter, "choose-store")


def test_the_bakery_and_a_hybrid_card_pass_axe(counter, live_server):
    _id, number = _card_of(live_server.app, "nora@example.lu")
    _sign_in(counter, BAKERY_STAFF)
    _open(counter, number)
    _check(counter, "points-card")
    _sheet(counter, "[hx-get$='/sheet/earn']")
    _check(counter, "earn-sheet")
    _close(counter)
    _sheet(counter, ".rewards .button >> nth=0")
    _check(counter, "redeem-sheet")
    _close(counter)
    _sheet(counter, ".history .button.danger >> nth=0")
    _check(counter, "void-points-sheet")
    _close(counter)

    with live_server.app.app_context():
        card = db.session.get(LoyaltyCard, _id)
        programs.update_program(card.program, program_type="hybrid", stamps_target=5)
        card.stamp_count = 5  # a full card: the give-reward sheet
        db.session.commit()
    counter.reload()
    _open(counter, number)
    assert counter.locator(".stamps").count() == 1 and counter.locator(".points").count() == 1
    _check(counter, "hybrid-card")
    _sheet(counter, "[hx-get$='/sheet/redeem-stamps']")
    _check(counter, "give-reward-sheet")


def _focused_is(page, selector):
    return page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector)


def _focus_in_sheet(page):
    return page.evaluate("() => !!document.activeElement.closest('#sheet .sheet[role=dialog]')")


def _tab_to(page, selector, limit=40):
    for _ in range(limit):
        if _focused_is(page, selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


@pytest.mark.parametrize("opener", ["[hx-get$='/sheet/earn']", ".rewards .button >> nth=0",
                                    ".history .button.danger >> nth=0", "[data-testid=phone-link]"])
def test_a_sheet_takes_the_focus_keeps_it_and_gives_it_back(tablet, live_server, opener):
    _id, number = _card_of(live_server.app, "nora@example.lu")
    _sign_in(tablet, BAKERY_STAFF)
    _open(tablet, number)
    button = tablet.locator(opener)
    for close in ("Escape", "cancel"):
        button.focus()
        tablet.keyboard.press("Enter")
        dialog = tablet.locator("#sheet .sheet[role=dialog][aria-modal=true]")
        dialog.wait_for()
        assert tablet.locator("#" + dialog.get_attribute("aria-labelledby")).inner_text()
        assert _focus_in_sheet(tablet)  # the heading, on a touch tablet (no on-screen keyboard)
        for key in ["Tab"] * 25 + ["Shift+Tab"] * 25:
            tablet.keyboard.press(key)
            assert _focus_in_sheet(tablet), f"{key} left the open sheet"
        if close == "Escape":
            tablet.keyboard.press("Escape")
        else:
            tablet.locator("#sheet [data-close-sheet] >> nth=0").click()
        dialog.wait_for(state="detached")
        assert button.evaluate("el => el === document.activeElement"), f"focus not back after {close}"


def test_with_a_keyboard_the_sheet_focuses_its_field(playwright_browser, live_server, request):
    page = open_page(playwright_browser, live_server.url, request,
                     viewport={"width": 1280, "height": 800}, locale="en-GB")
    _id, number = _card_of(live_server.app, "nora@example.lu")
    _sign_in(page, BAKERY_STAFF)
    _open(page, number)
    page.locator("[hx-get$='/sheet/earn']").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#sheet .sheet")
    assert _focused_is(page, "#amount")
    page.keyboard.type("12.50")
    assert page.input_value("#amount") == "12.50"
    page.context.close()


def test_a_whole_counter_action_from_the_keyboard_only(tablet, live_server):
    _id, number = _card_of(live_server.app, "marie@example.lu")
    tablet.goto(tablet.base + "/login")
    tablet.fill("#email", CAFE_STAFF)
    tablet.fill("#password", "demo-password")
    tablet.keyboard.press("Enter")
    tablet.wait_for_url("**/terminal/")
    assert _focused_is(tablet, "#q")
    tablet.keyboard.type(number.replace("-", ""))
    tablet.keyboard.press("Enter")
    tablet.wait_for_selector(".card-panel")
    before = _stamps(tablet)

    def confirm_with_pin():
        tablet.locator("#sheet .sheet").wait_for()
        _tab_to(tablet, "#sheet input[name=staff_pin_id]")
        tablet.keyboard.press("Space")
        for _ in range(4):
            if tablet.locator(".chip:has-text('Tom') input").is_checked():
                break
            tablet.keyboard.press("ArrowRight")
        assert tablet.locator(".chip:has-text('Tom') input").is_checked()
        tablet.keyboard.type("12349")  # typed on the keyboard, not tapped on the pad
        tablet.keyboard.press("Backspace")
        assert tablet.input_value("#pin") == "1234"
        _tab_to(tablet, "#sheet button[type=submit]")
        with tablet.expect_response(lambda answer: answer.request.method == "POST"):
            tablet.keyboard.press("Enter")
        tablet.wait_for_selector("#sheet .sheet", state="detached")  # the answer is swapped in
        tablet.wait_for_selector(".card-panel > .banner-success")

    _tab_to(tablet, "[hx-get$='/sheet/stamp']")
    tablet.keyboard.press("Enter")
    confirm_with_pin()
    assert _stamps(tablet) == before + 1
    assert tablet.get_attribute("#workspace", "aria-live") == "polite"  # the result is read out
    assert _focused_is(tablet, "#q")  # ready for the next scan
    tablet.shot("stamped")
    _tab_to(tablet, ".history .button.danger")
    tablet.keyboard.press("Enter")
    confirm_with_pin()
    tablet.wait_for_function("n => document.querySelector('[data-testid=stamp-count]')"
                             ".textContent.trim() === String(n)", arg=before)
    tablet.shot("voided")


def _small_targets(page):
    """Buttons and fields under 44x44 CSS px; a radio counts by its chip (the label is the target);
    the top bar's text links (brand, store, account name) are links in a line of text, not controls."""
    return page.evaluate("""tap => {
      const found = [];
      for (const el of document.querySelectorAll('button, input:not([type=hidden]), select, textarea, a.button, summary')) {
        const target = el.type === 'radio' ? el.closest('label') || el : el;
        const box = target.getBoundingClientRect();
        if (!box.width || !box.height) continue;
        if (box.width < tap || box.height < tap)
          found.push(`${target.outerHTML.slice(0, 80)} ${Math.round(box.width)}x${Math.round(box.height)}`);
      }
      return found;
    }""", TAP)


@pytest.mark.parametrize("size", SIZES)
def test_every_button_and_field_is_a_44_pixel_target(playwright_browser, live_server, request, size):
    page = open_page(playwright_browser, live_server.url, request, viewport=SIZES[size],
                     locale="en-GB", has_touch=True)
    _id, number = _card_of(live_server.app, "nora@example.lu")
    _sign_in(page, BAKERY_STAFF)
    assert _small_targets(page) == [], "counter"
    _open(page, number)
    assert _small_targets(page) == [], "card panel"
    for opener in ["[hx-get$='/sheet/earn']", ".rewards .button >> nth=0",
                   ".history .button.danger >> nth=0", "[hx-get$='/terminal/enroll']"]:
        _sheet(page, opener)
        page.shot(f"{size}-targets")
        assert _small_targets(page) == [], opener
        _close(page)
    page.context.close()
    page = open_page(playwright_browser, live_server.url, request, viewport=SIZES[size],
                     locale="en-GB", has_touch=True)
    _id, number = _card_of(live_server.app, "marie@example.lu")
    _sign_in(page, CAFE_STAFF)
    _open(page, number)
    assert _small_targets(page) == [], "stamp card"
    _sheet(page, "[hx-get$='/sheet/stamp']")
    assert _small_targets(page) == [], "stamp sheet (staff chips, PIN pad)"
    _close(page)
    _sheet(page, "[data-testid=phone-link]")
    assert _small_targets(page) == [], "phone link sheet"
    page.context.close()


@pytest.mark.parametrize("lang", LOCALES)
def test_the_sheets_as_their_own_pages_pass_axe(playwright_browser, live_server, request, lang):
    """Without JavaScript (or opened by address) a sheet is a page of its own."""
    page = open_page(playwright_browser, live_server.url, request, viewport=SIZES["landscape"],
                     locale=LOCALES[lang], has_touch=True, bypass_csp=True)
    card_id, _number = _card_of(live_server.app, "marie@example.lu")
    with live_server.app.app_context():
        tom = db.session.scalar(select(StaffPin.id).join(Store, Store.id == StaffPin.store_id)
                                .where(Store.code == "GARE", StaffPin.staff_name == "Tom"))
    _sign_in(page, CAFE_STAFF)
    for path in (f"/terminal/cards/{card_id}/sheet/stamp", f"/terminal/cards/{card_id}/unlock/{tom}?kind=stamp",
                 "/terminal/enroll"):
        page.goto(page.base + path)
        page.wait_for_selector(".sheet")
        _check(page, path.rsplit("/", 1)[-1].split("?")[0] + "-page")
    page.context.close()
