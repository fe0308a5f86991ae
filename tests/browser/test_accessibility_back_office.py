"""WCAG 2.1 AA on the back office (#23), on a laptop (1440x900), in English and French: axe-core
finds nothing on every GET page of the owner's pages (/merchant), the admin's (/admin) and the
sign-in and account pages, nor on the error pages, nor on a form refused for empty fields. The
pages are the blueprints' GET routes in the URL map, their ids filled from the demo data; a new
route without a page here fails the test."""
import secrets
from datetime import time, timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from loyalty import clock
from loyalty.extensions import db
from loyalty.models import (
    LoyaltyCard,
    Membership,
    Merchant,
    PasswordToken,
    Reward,
    Role,
    SentEmail,
    StaffPin,
    Store,
    User,
)
from loyalty.services import outbox
from loyalty.services.integrations import webhooks
from loyalty.services.merchant import happy_hours
from loyalty.services.platform import password_links
from tests import factories
from tests.browser.axe import violations
from tests.browser.conftest import open_page

pytestmark = pytest.mark.browser

OWNER, ADMIN, PASSWORD = "owner@kaffisbuttek.lu", "admin@demo.lu", "demo-password"
SHOP = "kaffisbuttek"  # stamps
POINTS_OWNER, POINTS_SHOP = "owner@beimbaecker.lu", "beim-baecker"  # points and a catalogue
LANGUAGES = {"en": "en-GB", "fr": "fr-FR"}

#: Pages of a points program, visited as the points shop's owner.
POINTS_PAGES = {"merchant.reward"}

#: GET routes that are not pages a person reads (files, JSON, a sandboxed email body), or that
#: answer only with a redirect.
NOT_PAGES = {
    "merchant.export_cards": "a CSV download",
    "merchant.export_transactions": "a CSV download",
    "merchant.retention_csv": "a CSV download",
    "merchant.statement_csv_download": "a CSV download",
    "admin.merchant_statement_csv": "a CSV download",
    "merchant.program_fields": "an htmx fragment of the program form, checked inside it",
    "admin.audit_csv": "a CSV download",
    "admin.email_html": "the email as sent, shown sandboxed in an iframe (emails are #23's "
                        "brand-contrast item)",
    "auth.healthz": "a health check for the load balancer",
    "merchant.birthday_preview": "the birthday email as sent, sandboxed in a frame of the birthday "
                                  "bonus page (checked there; emails are #23's brand-contrast item)",
    "merchant.win_back_preview": "the win-back email as sent, sandboxed in a frame of the "
                                  "win-back page (checked there)",
    "auth.index": "redirects to the person's home page",
}


def _ids(app):
    """The demo records whose pages are visited, and a fresh set-password link."""
    with app.app_context():
        merchant = db.session.scalar(select(Merchant).where(Merchant.slug == SHOP))
        owner = db.session.scalar(select(User).where(User.email == OWNER))
        staff = db.session.scalar(select(Membership).where(
            Membership.merchant_id == merchant.id, Membership.role != Role.MERCHANT_OWNER)
            .order_by(Membership.id))
        secret = secrets.token_urlsafe(32)
        db.session.add(PasswordToken(user_id=owner.id, token_hash=password_links.digest(secret),
                                     expires_at=clock.now() + timedelta(minutes=30)))
        db.session.commit()
        password_links.request_reset(OWNER)  # an email for the admin's email pages
        outbox.drain()
        # A webhook endpoint with a failed test event in its log (nothing listens on port 9).
        endpoint, _secret = webhooks.create_endpoint(merchant.id, url="http://127.0.0.1:9/h",
                                                     events=["card.enrolled", "points.earned"])
        webhooks.send_test(merchant.id, endpoint.id)
        hour = happy_hours.create_happy_hour(
            merchant, name="Extra stamp on Saturdays", kind="stamps", extra_stamps=1,
            weekdays=[5], start_time=time(9), end_time=time(12),
            starts_on=clock.now().date(), all_stores=True)
        # A fraud alert on two cards, by the first staff member (its page has cards and rows).
        alert = factories.fraud_alert(
            merchant, store=db.session.scalar(select(Store).where(
                Store.merchant_id == merchant.id).order_by(Store.id)),
            cards=db.session.scalars(select(LoyaltyCard).where(
                LoyaltyCard.merchant_id == merchant.id).order_by(LoyaltyCard.id).limit(2)).all(),
            staff_pin=db.session.scalar(select(StaffPin).where(
                StaffPin.merchant_id == merchant.id).order_by(StaffPin.id)))
        ids = {
            "merchant_id": merchant.id,
            "record_id": merchant.id,
            "card_id": db.session.scalar(select(LoyaltyCard.id).where(
                LoyaltyCard.merchant_id == merchant.id).order_by(LoyaltyCard.id)),
            "store_id": db.session.scalar(select(Store.id).where(
                Store.merchant_id == merchant.id).order_by(Store.id)),
            "staff_pin_id": db.session.scalar(select(StaffPin.id).join(Store).where(
                Store.merchant_id == merchant.id).order_by(StaffPin.id)),
            "reward_id": db.session.scalar(select(Reward.id).join(Merchant).where(
                Merchant.slug == POINTS_SHOP).order_by(Reward.id)),
            "points_card_id": db.session.scalar(select(LoyaltyCard.id).join(Merchant).where(
                Merchant.slug == POINTS_SHOP).order_by(LoyaltyCard.id)),
            "membership_id": staff.id,
            "user_id": staff.user_id,
            "email_id": db.session.scalar(select(SentEmail.id).order_by(SentEmail.id)),
            "token": secret,
            "happy_hour_id": hour.id,
            "alert_id": alert.id,
        }
        db.session.remove()
    return ids


def _page_paths(app, ids):
    """Every GET page of the back office, as (label, path), from the URL map."""
    paths = []
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
            blueprint = rule.endpoint.split(".")[0]
            if blueprint not in ("merchant", "admin", "auth") or "GET" not in rule.methods \
                    or rule.endpoint in NOT_PAGES:
                continue
            if rule.endpoint == "admin.record_list" or "kind" in rule.arguments:
                kinds = {"merchants": ids["merchant_id"], "stores": ids["store_id"],
                         "users": ids["user_id"]}
                for kind, record_id in kinds.items():
                    values = {"kind": kind, "record_id": record_id}
                    paths.append((f"{rule.endpoint}-{kind}", url_for(rule.endpoint, **{
                        name: values[name] for name in rule.arguments})))
                continue
            values = dict(ids)
            if rule.endpoint in ("admin.edit_store",):
                values["record_id"] = ids["store_id"]
            if rule.endpoint in ("admin.edit_user",):
                values["record_id"] = ids["user_id"]
            missing = [name for name in rule.arguments if values.get(name) is None]
            assert not missing, f"no demo record for {rule.endpoint} ({missing})"
            paths.append((rule.endpoint, url_for(rule.endpoint, **{
                name: values[name] for name in rule.arguments})))
    return paths


def _sign_in(page, email):
    page.goto(f"{page.base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def _sign_out(page):
    page.click(".topbar-end form.inline button[type=submit]")
    page.wait_for_url("**/login*")


def _refuse(page, path, form="main form.settings-form[method=post]"):
    """Open ``path`` and send its form with every typed field emptied: the refused form."""
    page.goto(page.base + path)
    form = page.locator(form).first
    for field in form.locator("input[type=text], input[type=email], input[type=password], "
                              "input[type=number], input:not([type]), textarea").all():
        if field.is_visible() and field.is_editable():
            field.fill("")
    form.locator("button[type=submit], button:not([type])").last.click()
    page.wait_for_load_state()
    page.locator(".field-errors, .error-summary, .flash-error").first.wait_for()


def _check(page, label, found, lang):
    page.wait_for_timeout(30)  # let htmx settle its classes
    assert page.locator("html").get_attribute("lang") == lang, label
    page.shot(f"{lang}-{label}")
    found += [f"{lang} {label}: {line}" for line in violations(page)]


def _visit_all(page, lang, paths, area, found):
    for label, path in paths:
        if label.split(".")[0] in area and label not in POINTS_PAGES:
            response = page.goto(page.base + path)
            expected = 403 if label == "auth.no_access" else 200  # "you have no access here"
            assert response.status == expected, f"{label}: {path} answered {response.status}"
            _check(page, label, found, lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_back_office_passes_axe_on_a_laptop(playwright_browser, live_server, request, lang):
    app = live_server.app
    ids = _ids(app)
    paths = _page_paths(app, ids)
    page = open_page(playwright_browser, live_server.url, request, locale=LANGUAGES[lang],
                     viewport={"width": 1440, "height": 900},
                     bypass_csp=True)  # axe is added to the page as a script
    page.context.add_cookies([{"name": "lang", "value": lang, "url": live_server.url}])
    found = []

    # Signed out: the sign-in pages, their refusals, and the error pages.
    for label, path in [("login", "/login"), ("forgot-password", "/forgot-password"),
                        ("set-password", f"/set-password/{ids['token']}"),
                        ("set-password-expired", "/set-password/no-such-link")]:
        page.goto(page.base + path)
        _check(page, label, found, lang)
    _refuse(page, "/login", "main form")
    _check(page, "login-refused", found, lang)
    _refuse(page, "/forgot-password", "main form")
    _check(page, "forgot-password-refused", found, lang)
    _refuse(page, f"/set-password/{ids['token']}", "main form")
    _check(page, "set-password-refused", found, lang)
    page.goto(page.base + "/no-such-page")
    _check(page, "error-404", found, lang)

    # The owner: every /merchant page, the account pages, and the refused forms.
    _sign_in(page, OWNER)
    _visit_all(page, lang, paths, ("merchant", "auth"), found)
    for label, path in [("stores", "/merchant/stores"),
                        ("pins", "/merchant/pins"), ("program", "/merchant/program"),
                        ("adjust", f"/merchant/cards/{ids['card_id']}/adjust"),
                        ("birthday", "/merchant/birthday"), ("win-back", "/merchant/win-back"),
                        ("alert", f"/merchant/alerts/{ids['alert_id']}"),
                        ("alert-rules", "/merchant/alert-rules")]:
        _refuse(page, path)
        _check(page, f"{label}-refused", found, lang)
    _refuse(page, "/merchant/integrations/webhooks")
    _check(page, "webhooks-refused", found, lang)
    _refuse(page, "/merchant/team", "main form.invite-form")
    _check(page, "team-refused", found, lang)
    _refuse(page, "/account", "main form[action$='/account/password']")
    _check(page, "account-refused", found, lang)
    page.goto(page.base + "/merchant/cards/999999999")
    _check(page, "error-404-signed-in", found, lang)
    page.goto(page.base + "/admin/")
    _check(page, "error-403", found, lang)
    _sign_out(page)

    # A points shop's owner: the catalogue, a reward, a points card.
    _sign_in(page, POINTS_OWNER)
    for label, path in [("points-home", "/merchant/"), ("points-program", "/merchant/program"),
                        ("points-rewards", "/merchant/rewards"),
                        ("points-reward", f"/merchant/rewards/{ids['reward_id']}"),
                        ("points-card", f"/merchant/cards/{ids['points_card_id']}"),
                        ("points-adjust", f"/merchant/cards/{ids['points_card_id']}/adjust"),
                        ("points-statement", "/merchant/statement")]:
        assert page.goto(page.base + path).ok, label
        _check(page, label, found, lang)
    _refuse(page, "/merchant/rewards")
    _check(page, "points-rewards-refused", found, lang)
    assert page.goto(page.base + "/merchant/statement?month=2026-13").status == 422
    _check(page, "points-statement-refused", found, lang)
    _sign_out(page)

    # The platform admin: every /admin page and its refused forms.
    _sign_in(page, ADMIN)
    _visit_all(page, lang, paths, ("admin",), found)
    _refuse(page, "/admin/merchants/new")
    _check(page, "new-merchant-refused", found, lang)
    _refuse(page, f"/admin/merchants/{ids['merchant_id']}/stores/new")
    _check(page, "new-store-refused", found, lang)
    _refuse(page, f"/admin/users/{ids['user_id']}")
    _check(page, "edit-user-refused", found, lang)

    page.context.close()
    assert found == [], "\n".join(found)


FOCUSED = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  const rgb = (colour) => {
    const parts = colour.match(/[\\d.]+/g).map(Number);
    return {rgb: parts.slice(0, 3), alpha: parts.length > 3 ? parts[3] : 1};
  };
  let behind = [255, 255, 255];  // the ring stands off the element: on its parents' background
  for (let node = el.parentElement; node; node = node.parentElement) {
    const colour = rgb(getComputedStyle(node).backgroundColor);
    if (colour.alpha > 0.99) { behind = colour.rgb; break; }
  }
  const box = el.getBoundingClientRect();
  return {what: el.outerHTML.slice(0, 90), style: style.outlineStyle,
          width: parseFloat(style.outlineWidth), ring: rgb(style.outlineColor).rgb, behind,
          shown: box.width > 1 && box.height > 1 && box.bottom > 0 && box.top < innerHeight};
}"""


def _contrast(first, second):
    def luminance(rgb):
        channels = [c / 255 for c in rgb]
        channels = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]
    light, dark = sorted([luminance(first), luminance(second)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _tab_through(page, stops, problems, label):
    """Tab ``stops`` times: each stop shows a ring of 2 px or more, at 3:1 against its background."""
    for _stop in range(stops):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused["what"].startswith("<body"):
            break
        ratio = _contrast(focused["ring"], focused["behind"])
        if focused["style"] == "none" or focused["width"] < 2 or ratio < 3:
            problems.append(f"{label}: {focused['what']} ring {focused['style']} "
                            f"{focused['width']}px {focused['ring']} on {focused['behind']} "
                            f"= {ratio:.2f}:1")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_keyboard_skips_to_the_content_and_every_stop_shows_a_ring(
        playwright_browser, live_server, request, lang):
    page = open_page(playwright_browser, live_server.url, request, locale=LANGUAGES[lang],
                     viewport={"width": 1440, "height": 900})
    page.context.add_cookies([{"name": "lang", "value": lang, "url": live_server.url}])
    problems = []
    page.goto(page.base + "/login")
    _tab_through(page, 12, problems, "login")
    _sign_in(page, OWNER)
    page.goto(page.base + "/merchant/")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert skip.inner_text() == {"en": "Skip to content", "fr": "Aller au contenu"}[lang]
    box = skip.bounding_box()
    assert box["y"] >= 0 and box["height"] > 10, "the skip link shows when it has the focus"
    page.shot(f"{lang}-skip-link")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.tagName") == "MAIN"
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('main')"), "the next stop is in it"

    for path in ("/merchant/", "/merchant/team"):
        page.goto(page.base + path)
        _tab_through(page, 40, problems, path)
    page.click(".lang-switch summary")  # the language menu opens on white, under the green bar
    _tab_through(page, 3, problems, "language menu")
    _sign_out(page)
    _sign_in(page, ADMIN)
    page.goto(page.base + "/admin/")
    _tab_through(page, 30, problems, "/admin/")

    # The dashboard's charts: a picture whose name says what it shows (WCAG 1.1.1).
    charts = page.locator("svg.bars[role=img]")
    assert charts.count() >= 2
    for chart in charts.all():
        values = [int(title.rsplit(":", 1)[1]) for title in chart.locator("rect title").all_text_contents()]
        name = chart.get_attribute("aria-label")
        assert str(sum(values)) in name and str(max(values)) in name, name
        assert {"en": "in total", "fr": "au total"}[lang] in name, name
    page.context.close()
    assert problems == [], "\n".join(problems)
