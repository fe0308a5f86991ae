"""A shop that picks a card colour its text colour cannot be read on (#f0f0f0 under white) still
gets readable cards: the owner's preview, the customer's card page and the join page on a
phone show the text in a colour that reaches 4.5:1, as the browser paints it."""
import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import LoyaltyCard, Merchant
from tests.browser.conftest import open_page

pytestmark = pytest.mark.browser

#: For each element: its text colour as painted (opacity blended in), the background it stands
#: on (its own or the first ancestor's that is not transparent), its border and the background
#: around it, as [r, g, b].
PAINTED = """selectors => {
  const rgb = value => value.match(/[\\d.]+/g).map(Number);
  function backdrop(element) {
    for (let node = element; node; node = node.parentElement) {
      const colour = rgb(getComputedStyle(node).backgroundColor);
      if (colour.length < 4 || colour[3] > 0) return colour.slice(0, 3);
    }
    return [255, 255, 255];
  }
  function opacity(element) {
    let total = 1;
    for (let node = element; node; node = node.parentElement) total *= Number(getComputedStyle(node).opacity);
    return total;
  }
  return selectors.flatMap(selector => [...document.querySelectorAll(selector)].map(element => {
    const back = backdrop(element), text = rgb(getComputedStyle(element).color), alpha = opacity(element) * (text[3] ?? 1);
    return {selector, text: text.slice(0, 3).map((c, i) => alpha * c + (1 - alpha) * back[i]), back,
            border: rgb(getComputedStyle(element).borderTopColor).slice(0, 3),
            page: backdrop(element.parentElement)};
  }));
}"""
CARD_TEXT = [".customer-top .customer-shop", ".pass .pass-name", ".pass .pass-label",
             ".pass .pass-value", ".pass figcaption", ".pass .pass-number"]


def _luminance(colour):
    linear = [c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4
              for c in colour]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _ratio(one, other):
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _assert_readable(page, selectors):
    painted = page.evaluate(PAINTED, selectors)
    assert {item["selector"] for item in painted} == set(selectors)
    for item in painted:
        assert _ratio(item["text"], item["back"]) >= 4.5, item
    return painted


def test_a_poor_brand_pair_still_reads_on_the_phone(playwright_browser, live_server, request):
    owner = open_page(playwright_browser, live_server.url, request,
                      viewport={"width": 1440, "height": 900}, locale="en-GB")
    owner.goto(owner.base + "/login")
    owner.fill("#email", "owner@kaffisbuttek.lu")
    owner.fill("#password", "demo-password")
    owner.click("button[type=submit]")
    owner.wait_for_url("**/merchant/")
    owner.goto(owner.base + "/merchant/branding")
    owner.fill("#primary_color", "#f0f0f0")
    owner.fill("#secondary_color", "#ffffff")
    assert owner.locator("#contrast-warning").is_visible()  # warned as the owner types
    typed = _assert_readable(owner, ["#card-preview .pass .pass-name",
                                     "#card-preview .pass .pass-number"])
    assert [round(c) for c in typed[0]["back"]] == [240, 240, 240]  # previewed as typed
    owner.click("text=Save branding")
    owner.wait_for_url("**/merchant/branding")
    assert owner.locator("#contrast-warning").is_visible()  # and after saving
    _assert_readable(owner, ["#card-preview .pass .pass-name", "#card-preview .pass .pass-label"])
    owner.shot("branding")
    owner.context.close()

    with live_server.app.app_context():
        secret = db.session.scalar(select(LoyaltyCard.page_secret).join(Merchant).where(
            Merchant.slug == "kaffisbuttek", LoyaltyCard.stamp_count > 0).order_by(LoyaltyCard.id))
        db.session.remove()
    phone = open_page(playwright_browser, live_server.url, request,
                      viewport={"width": 390, "height": 844}, device_scale_factor=2,
                      is_mobile=True, has_touch=True, locale="en-GB")
    phone.goto(f"{phone.base}/card/{secret}")
    phone.shot("card-page")
    painted = _assert_readable(phone, CARD_TEXT)
    card_colour = next(item["back"] for item in painted if item["selector"] == ".pass .pass-name")
    assert [round(c) for c in card_colour] == [240, 240, 240]  # the shop's colour is kept
    stamps = phone.evaluate(PAINTED, [".customer .stamp.filled"])
    assert stamps
    for stamp in stamps:  # a filled stamp's ring shows on the page (3:1, WCAG 1.4.11)
        assert _ratio(stamp["border"], stamp["page"]) >= 3, stamp

    phone.goto(f"{phone.base}/m/kaffisbuttek/join")
    phone.shot("join-page")
    _assert_readable(phone, [".customer-top .customer-shop", ".customer .button.primary"])
    phone.goto(f"{phone.base}/card/{secret}/delete")
    _assert_readable(phone, [".customer-top .customer-shop"])
    phone.context.close()
