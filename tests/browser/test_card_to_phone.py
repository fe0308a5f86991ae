"""The card onto the customer's phone at the counter (tablet 1280x800): staff show a QR code
that fits the sheet with its button in view; the phone (390x844) that scans it opens the
card's own page; the same code is refused the second time."""
import pytest

from tests.browser.conftest import open_page
from tests.browser.test_storefront_phone import _read_qr
from tests.browser.test_terminal_flow import CAFE_STAFF, _card_of, _open_card, _sign_in

pytestmark = pytest.mark.browser


def test_staff_open_a_customers_card_on_their_phone(tablet, live_server, playwright_browser,
                                                    request):
    _card_id, number = _card_of(live_server.app, "marie@example.lu")
    _sign_in(tablet, CAFE_STAFF)
    _open_card(tablet, number)
    tablet.get_by_role("button", name="Card on their phone").click()
    sheet = tablet.get_by_role("dialog")
    sheet.get_by_text("The code works once, for 10 minutes.").wait_for()
    done = sheet.get_by_role("button", name="Done")
    box = done.bounding_box()
    assert box["y"] + box["height"] <= 800  # the button in view on a 10-inch tablet
    tablet.shot("phone-link-sheet")
    [link] = _read_qr(tablet.get_by_test_id("phone-link-qr").locator("svg"))
    path = link[link.index("/c/"):]

    phone = open_page(playwright_browser, live_server.url, request,
                      viewport={"width": 390, "height": 844}, device_scale_factor=2,
                      is_mobile=True, has_touch=True, locale="en-GB")
    phone.goto(phone.base + path)
    assert phone.get_by_test_id("card-number").inner_text() == number
    phone.get_by_test_id("handoff-welcome").wait_for()
    phone.shot("phone-card")
    second = phone.goto(phone.base + path)
    assert second.status == 410
    phone.get_by_role("heading", name="Ask for a new QR code").wait_for()
    phone.shot("phone-second-scan")
    assert [e for e in phone.console_errors if "410" not in e] == []  # only the refusal itself
    phone.context.close()

    done.click()
    assert tablet.get_by_role("dialog").count() == 0
