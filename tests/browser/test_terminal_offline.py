"""The counter without connection (#25), in Chromium on a tablet: the tablet keeps stamps and
purchases while offline (a reload included), sends them once when the connection is back, with
a staff PIN, and shows what the server refused; what spends value waits for the server; a new
deploy's worker replaces the old one's files.

``context.set_offline(True)`` cuts the page and its service worker alike in this Chromium (the
reload below is answered by the worker's kept page, its own fetch having failed), so the tests
go offline the way a tablet does.
"""
import time

import pytest
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import LoyaltyCard, LoyaltyTransaction, Merchant, TransactionType
from loyalty.services.engine import cards
from loyalty.services.merchant import programs
from tests.browser.axe import assert_accessible
from tests.browser.conftest import OUTPUT, open_page
from tests.browser.test_terminal_flow import (
    BAKERY_STAFF,
    CAFE_STAFF,
    _card_of,
    _sign_in,
)

pytestmark = pytest.mark.browser

CAFE = 1  # the demo's café (Gare: Tom 1234, Anna 9876 a manager)


def _until(page, script, timeout=12.0):
    """Poll ``script`` (a JS function) until it gives something truthy; the terminal's CSP
    forbids the eval ``wait_for_function`` uses."""
    end = time.monotonic() + timeout
    while True:
        value = page.evaluate(script)
        if value:
            return value
        assert time.monotonic() < end, f"never true: {script}"
        page.wait_for_timeout(100)


def _cafe(app, **fields):
    with app.app_context():
        programs.update_program(programs.live_program(CAFE), **fields)


def _new_card(app, name):
    with app.app_context():
        merchant = db.session.get(Merchant, CAFE)
        email = name.lower().replace(" ", ".") + "@example.lu"
        card = cards.enroll_customer(merchant, name=name, email=email)
        return card.id, card.card_number


def _rows(app, card_id):
    """The card's counter rows: (type, stamps, points, offline, counter_at set)."""
    with app.app_context():
        rows = db.session.scalars(select(LoyaltyTransaction).where(
            LoyaltyTransaction.card_id == card_id,
            LoyaltyTransaction.transaction_type.in_(
                [TransactionType.STAMP_EARNED, TransactionType.POINTS_EARNED]))).all()
        return [(row.transaction_type, row.stamps_delta, row.points_delta, row.offline,
                 row.counter_at is not None) for row in rows]


def _balance(app, card_id):
    with app.app_context():
        card = db.session.get(LoyaltyCard, card_id)
        return card.stamp_count, card.points_balance


def _kept_by_worker(page, email):
    """Signed in, with the worker controlling the page and the page kept."""
    _sign_in(page, email)
    _until(page, "() => navigator.serviceWorker.controller !== null")
    _until(page, "() => caches.match('/terminal/').then(Boolean)")


def _go_offline(page):
    page.context.set_offline(True)
    page.wait_for_selector("#offline-status.is-offline")


def _find(page, number):
    page.fill("#q", number)
    page.press("#q", "Enter")
    page.wait_for_selector(f"#offline-panel h2:has-text('{number}')")


def _as(page, name):
    page.click(f"#offline-panel .chip:has-text('{name}')")


def _stamp(page, number, quantity, who="Tom"):
    _find(page, number)
    _as(page, who)
    for _ in range(quantity - 1):
        page.click("#offline-panel [data-step='1']")
    page.click("[data-offline-add=stamp]")
    page.wait_for_selector("#offline-panel > .banner-success")


def _earn(page, number, amount, who="Tom"):
    _find(page, number)
    _as(page, who)
    for key in amount:
        page.click(f"#offline-panel .key[data-key='{key}']")
    page.click("[data-offline-add=earn]")
    page.wait_for_selector("#offline-panel > .banner-success")


def _waiting(page):
    return page.text_content("#offline-status [data-offline-count]").strip()


def _send_with_pin(page, who, pin):
    page.wait_for_selector("[data-testid=offline-send]")
    page.click(f"[data-testid=offline-send] .chip:has-text('{who}')")
    page.click(".pinpad .key[data-key='clear']")
    for digit in pin:
        page.click(f".pinpad .key[data-key='{digit}']")
    page.click("[data-testid=offline-send] button[type=submit]")


def _confirm_on_screen(page, selector, height):
    box = page.locator(selector).bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= height, (selector, box)


def test_kept_offline_through_a_reload_and_sent_once_with_a_pin(tablet, live_server):
    app = live_server.app
    _cafe(app, program_type="hybrid", points_per_euro=10, cooldown_minutes=0)
    (first, one), (second, two), (third, three) = (
        _new_card(app, name) for name in ("Ida Offline", "Jo Offline", "Kim Offline"))
    _kept_by_worker(tablet, CAFE_STAFF)
    _go_offline(tablet)
    _stamp(tablet, one, 1)
    assert "1 stamp kept for card " + one in tablet.text_content("#offline-panel > .banner")
    _stamp(tablet, two, 2)
    _earn(tablet, three, "12.50")
    assert "125 points kept for card " + three in tablet.text_content("#offline-panel > .banner")
    assert _waiting(tablet) == "3 actions waiting on this tablet."
    assert "No connection. Stamps and purchases are kept on this tablet" in tablet.text_content(
        "#offline-status")
    tablet.shot("offline-banner")
    assert _rows(app, first) == []  # nothing reached the server

    tablet.reload()  # offline: the worker answers with the page it kept, the queue is still here
    tablet.wait_for_selector("#offline-status.is-offline")
    assert tablet.locator("#find-form").is_visible()
    _until(tablet, "() => /3 actions/.test(document.querySelector('[data-offline-count]')"
                   ".textContent)")

    tablet.context.set_offline(False)
    tablet.wait_for_selector("[data-testid=offline-send] h2:has-text("
                             "'3 actions waiting: enter your PIN to send them')")
    assert tablet.locator("[data-testid=offline-send] .offline-list li").count() == 3
    _confirm_on_screen(tablet, "[data-testid=offline-send] button[type=submit]", 800)
    tablet.shot("waiting-sheet")
    _send_with_pin(tablet, "Tom", "9999")
    tablet.wait_for_selector("[data-testid=offline-send] .banner-error:has-text('Wrong PIN')")
    assert _rows(app, first) == []  # a wrong PIN sends nothing
    _send_with_pin(tablet, "Tom", "1234")
    tablet.wait_for_selector("[data-testid=offline-results]")
    accepted = tablet.locator("[data-offline-accepted] li")
    assert accepted.count() == 3
    text = tablet.text_content("[data-offline-accepted]")
    assert "Ida Offline" in text and "1 stamp of 10" in text
    assert "Jo Offline" in text and "2 stamps of 10" in text
    assert "Kim Offline" in text and "125 points" in text
    tablet.shot("sent")
    assert _waiting(tablet) == ""
    stamp, earn = TransactionType.STAMP_EARNED, TransactionType.POINTS_EARNED
    assert _rows(app, first) == [(stamp, 1, 0, True, True)]
    assert _rows(app, second) == [(stamp, 2, 0, True, True)]
    assert _rows(app, third) == [(earn, 0, 125, True, True)]
    assert _balance(app, second) == (2, 0) and _balance(app, third) == (0, 125)


def test_a_sync_cut_half_way_is_sent_again_and_credits_once(tablet, live_server):
    app = live_server.app
    _cafe(app, program_type="hybrid", points_per_euro=10, cooldown_minutes=0)
    (first, one), (second, two), (third, three) = (
        _new_card(app, name) for name in ("Lou Cut", "Max Cut", "Noa Cut"))
    _kept_by_worker(tablet, CAFE_STAFF)
    _go_offline(tablet)
    _stamp(tablet, one, 1)
    _stamp(tablet, two, 3)
    _earn(tablet, three, "4")
    sent = []

    def recorded_then_lost(route):
        """The server records the batch, the answer never reaches the tablet."""
        sent.append(route.request.post_data_json)
        route.fetch()
        route.abort("internetdisconnected")

    tablet.route("**/terminal/offline/sync", recorded_then_lost)
    tablet.context.set_offline(False)
    _send_with_pin(tablet, "Anna", "9876")  # a manager's PIN
    tablet.wait_for_selector("#offline-notice .banner-error:has-text('connection dropped')")
    tablet.shot("sync-cut")
    assert len(sent) == 1
    assert _rows(app, second) == [(TransactionType.STAMP_EARNED, 3, 0, True, True)]
    assert _waiting(tablet) == "3 actions waiting on this tablet."  # the tablet never heard

    tablet.unroute("**/terminal/offline/sync")
    _send_with_pin(tablet, "Anna", "9876")  # the probe found the server again
    tablet.wait_for_selector("[data-testid=offline-results]")
    assert tablet.locator("[data-offline-accepted] li").count() == 3
    assert "3 stamps of 10" in tablet.text_content("[data-offline-accepted]")
    assert _waiting(tablet) == ""
    assert _rows(app, first) == [(TransactionType.STAMP_EARNED, 1, 0, True, True)]
    assert _rows(app, second) == [(TransactionType.STAMP_EARNED, 3, 0, True, True)]
    assert _rows(app, third) == [(TransactionType.POINTS_EARNED, 0, 40, True, True)]
    assert _balance(app, second) == (3, 0) and _balance(app, third) == (0, 40)


def test_a_stamp_beyond_the_daily_cap_comes_back_refused_until_dismissed(tablet, live_server):
    app = live_server.app
    _cafe(app, cooldown_minutes=0)  # the demo's 15 minutes would refuse the second stamp first
    card_id, number = _new_card(app, "Oli Capped")
    _kept_by_worker(tablet, CAFE_STAFF)
    _go_offline(tablet)
    _stamp(tablet, number, 5)  # the day's cap, in one go
    tablet.wait_for_timeout(800)  # the button takes taps again
    _stamp(tablet, number, 1)
    tablet.context.set_offline(False)
    _send_with_pin(tablet, "Tom", "1234")
    tablet.wait_for_selector("[data-testid=offline-results]")
    assert tablet.locator("[data-offline-accepted] li").count() == 1
    refused = tablet.locator("[data-offline-refused-list] li")
    assert refused.count() == 1
    assert "daily limit of 5 stamps" in refused.text_content()
    assert number in refused.text_content()
    _confirm_on_screen(tablet, "[data-offline-dismiss]", 800)
    tablet.shot("refused-list")
    assert _rows(app, card_id) == [(TransactionType.STAMP_EARNED, 5, 0, True, True)]

    tablet.reload()  # the refused list stays on the tablet until someone dismisses it
    tablet.wait_for_selector("[data-testid=refused-open]:has-text('1 action refused: see why')")
    tablet.click("[data-testid=refused-open]")
    tablet.wait_for_selector("[data-offline-refused-list] li:has-text('daily limit')")
    tablet.click("[data-offline-dismiss]")
    tablet.wait_for_selector("[data-offline-refused-list]", state="hidden")
    assert tablet.locator("[data-testid=refused-open]").is_hidden()
    tablet.reload()
    tablet.wait_for_selector("#find-form")
    tablet.wait_for_timeout(300)
    assert tablet.locator("[data-testid=refused-open]").is_hidden()


def test_a_staff_pin_sends_its_own_actions_and_the_others_stay(tablet, live_server):
    app = live_server.app
    _cafe(app, cooldown_minutes=0)
    (toms, one), (annas, two) = (_new_card(app, name) for name in ("Tia Own", "Uma Other"))
    _kept_by_worker(tablet, CAFE_STAFF)
    _go_offline(tablet)
    _stamp(tablet, one, 1, who="Tom")
    _stamp(tablet, two, 1, who="Anna")
    tablet.context.set_offline(False)
    _send_with_pin(tablet, "Tom", "1234")
    tablet.wait_for_selector("[data-testid=offline-results]")
    assert tablet.locator("[data-offline-accepted] li").count() == 1
    assert "1 action of someone else is still waiting" in tablet.text_content(
        "[data-offline-others]")
    assert _waiting(tablet) == "1 action waiting on this tablet."
    assert len(_rows(app, toms)) == 1 and _rows(app, annas) == []
    tablet.click("[data-testid=offline-results] [data-close-sheet]")
    tablet.click("#offline-status [data-offline-send]")
    _send_with_pin(tablet, "Anna", "9876")
    tablet.wait_for_selector("[data-testid=offline-results] [data-offline-accepted] li")
    assert _waiting(tablet) == ""
    assert len(_rows(app, toms)) == 1 and len(_rows(app, annas)) == 1


def test_offline_what_spends_value_says_it_needs_the_connection(tablet, live_server):
    app = live_server.app
    card_id, number = _card_of(app, "nora@example.lu")
    with app.app_context():
        before = db.session.scalar(select(LoyaltyCard.points_balance)
                                   .where(LoyaltyCard.id == card_id))
    _kept_by_worker(tablet, BAKERY_STAFF)
    tablet.fill("#q", number)
    tablet.press("#q", "Enter")
    tablet.wait_for_selector("#card-panel .rewards .button")
    _go_offline(tablet)
    needs = ("Rewards, voids, undo, adjustments, new customers and unlocking a PIN need the "
             "connection.")
    for button in ("#card-panel .rewards .button >> nth=0",
                   "#card-panel .history .button.danger >> nth=0",
                   "#find-form button:has-text('New customer')"):
        tablet.click(button)
        tablet.wait_for_selector(f"#offline-notice .banner-error:has-text('{needs}')")
        assert tablet.locator("#sheet .sheet").count() == 0, button
        tablet.evaluate("() => { document.getElementById('offline-notice').innerHTML = ''; }")
    tablet.shot("needs-connection")
    tablet.click("#card-panel button:has-text('Earn points')")  # gives value: kept offline
    tablet.wait_for_selector(f"#offline-panel h2:has-text('{number}')")
    assert needs in tablet.text_content("#offline-panel")
    tablet.fill("#q", "Nora")  # a name needs the server's customer list
    tablet.press("#q", "Enter")
    tablet.wait_for_selector("#offline-notice .banner-error:has-text('only a card number')")
    with app.app_context():
        assert db.session.scalar(select(LoyaltyCard.points_balance)
                                 .where(LoyaltyCard.id == card_id)) == before


def test_a_post_without_answer_is_kept_with_its_own_key(tablet, live_server):
    """Stamp tapped as the connection drops: the form's key goes in the queue, so if the
    server did record it, sending the queue replays that answer instead of stamping twice."""
    app = live_server.app
    _cafe(app, require_staff_pin=False, cooldown_minutes=0)
    card_id, number = _new_card(app, "Pia Dropped")
    _kept_by_worker(tablet, CAFE_STAFF)
    tablet.fill("#q", number.replace("-", ""))
    tablet.press("#q", "Enter")
    tablet.wait_for_selector("#card-panel")
    key = tablet.input_value("#card-panel form[hx-post$='/stamp'] input[name=idempotency_key]")

    def recorded_then_lost(route):
        route.fetch()
        route.abort("internetdisconnected")

    tablet.route("**/stamp", recorded_then_lost)
    tablet.click("#card-panel form[hx-post$='/stamp'] button")
    tablet.wait_for_selector("#offline-panel > .banner-success:has-text('1 stamp kept')")
    assert _rows(app, card_id) == [(TransactionType.STAMP_EARNED, 1, 0, False, False)]
    tablet.unroute("**/stamp")
    # no PIN asked: back online, the tablet sends by itself
    tablet.wait_for_selector("[data-testid=offline-results] [data-offline-accepted] li",
                             timeout=15_000)
    assert "1 stamp of 10" in tablet.text_content("[data-offline-accepted]")
    assert _rows(app, card_id) == [(TransactionType.STAMP_EARNED, 1, 0, False, False)]
    with app.app_context():
        assert db.session.scalar(select(LoyaltyTransaction.idempotency_key).where(
            LoyaltyTransaction.card_id == card_id,
            LoyaltyTransaction.transaction_type == TransactionType.STAMP_EARNED)) == key


def test_the_tablets_caps_refuse_more_with_a_message(tablet, live_server):
    app = live_server.app
    _cafe(app, program_type="hybrid", points_per_euro=10, cooldown_minutes=0,
          offline_max_actions=2, offline_max_points=100)
    _id, one = _new_card(app, "Quinn Cap")
    _id, two = _new_card(app, "Ria Cap")
    _kept_by_worker(tablet, CAFE_STAFF)
    _go_offline(tablet)
    _find(tablet, one)
    _as(tablet, "Tom")
    for key in "12":  # 120 points: over the tablet's 100
        tablet.click(f"#offline-panel .key[data-key='{key}']")
    tablet.click("[data-offline-add=earn]")
    tablet.wait_for_selector("#offline-panel > .banner-error:has-text('at most 100 points')")
    _stamp(tablet, one, 1)
    _stamp(tablet, two, 1)
    tablet.wait_for_timeout(800)
    tablet.click("[data-offline-add=stamp]")
    tablet.wait_for_selector("#offline-panel > .banner-error:has-text('at most 2 actions')")
    assert _waiting(tablet) == "2 actions waiting on this tablet."


def test_a_new_deploy_replaces_the_workers_files(tablet, live_server):
    app = live_server.app
    version = ("() => new Promise(resolve => {"
               " navigator.serviceWorker.addEventListener('message', event => resolve("
               "event.data.version), {once: true});"
               " navigator.serviceWorker.controller.postMessage({type: 'version'}); })")
    _kept_by_worker(tablet, CAFE_STAFF)
    old = tablet.evaluate(version)
    assert tablet.evaluate("() => caches.keys()") == [f"terminal-static-{old}", "terminal-page"]
    app.config["RELEASE"] = "next-release"  # what a deploy changes (or any kept file's bytes)
    tablet.reload()
    _until(tablet, f"() => caches.keys().then(names => !names.includes('terminal-static-{old}'))")
    new = tablet.evaluate(version)
    assert new != old
    assert sorted(tablet.evaluate("() => caches.keys()")) == ["terminal-page",
                                                              f"terminal-static-{new}"]
    tablet.reload()  # the next load runs on the new worker's files, offline too
    _go_offline(tablet)
    tablet.reload()
    tablet.wait_for_selector("#offline-status.is-offline")
    assert tablet.evaluate(version) == new


def test_signing_out_forgets_the_kept_page(tablet, live_server):
    _kept_by_worker(tablet, CAFE_STAFF)
    tablet.click("button:has-text('Sign out')")
    tablet.wait_for_url("**/login")
    assert tablet.evaluate("() => caches.match('/terminal/').then(Boolean)") is False
    tablet.context.set_offline(True)
    with pytest.raises(PlaywrightError, match="ERR_INTERNET_DISCONNECTED|ERR_FAILED"):
        tablet.goto(tablet.base + "/terminal/")  # no terminal of the last person to show


SIZES = {"landscape": {"width": 1280, "height": 800}, "portrait": {"width": 800, "height": 1280}}


@pytest.mark.parametrize("size", SIZES)
def test_offline_panel_and_sheets_fit_and_pass_axe(playwright_browser, live_server, request, size):
    app = live_server.app
    _cafe(app, program_type="hybrid", points_per_euro=10, cooldown_minutes=0)
    _id, number = _new_card(app, "Sam Portrait")
    page = open_page(playwright_browser, live_server.url, request, viewport=SIZES[size],
                     locale="en-GB", has_touch=True, bypass_csp=True)  # axe is injected
    height = SIZES[size]["height"]
    try:
        _kept_by_worker(page, CAFE_STAFF)
        _go_offline(page)
        _find(page, number)
        _as(page, "Tom")
        page.click("#offline-panel .key[data-key='8']")
        _confirm_on_screen(page, "[data-offline-add=earn]", height)
        _confirm_on_screen(page, "[data-offline-add=stamp]", height)
        assert_accessible(page, "offline panel")
        page.screenshot(path=str(OUTPUT / f"offline-panel-{size}.png"))
        page.click("[data-offline-add=stamp]")
        page.wait_for_selector("#offline-panel > .banner-success")
        for _ in range(5):
            page.click("#offline-panel [data-step='1']")
        page.wait_for_timeout(800)
        page.click("[data-offline-add=stamp]")  # 6 more: over the day's cap of 5
        page.wait_for_selector("#offline-panel > .banner-success:has-text('5 stamps kept')")
        page.screenshot(path=str(OUTPUT / f"offline-banner-{size}.png"))
        page.context.set_offline(False)
        page.wait_for_selector("[data-testid=offline-send]")
        _confirm_on_screen(page, "[data-testid=offline-send] button[type=submit]", height)
        assert_accessible(page, "waiting sheet")
        page.screenshot(path=str(OUTPUT / f"offline-waiting-sheet-{size}.png"))
        _send_with_pin(page, "Tom", "1234")
        page.wait_for_selector("[data-testid=offline-results]")
        assert page.locator("[data-offline-refused-list] li").count() == 1
        _confirm_on_screen(page, "[data-offline-dismiss]", height)
        assert_accessible(page, "results")
        page.screenshot(path=str(OUTPUT / f"offline-refused-list-{size}.png"))
        assert not page.console_errors or all("ERR_INTERNET_DISCONNECTED" in e
                                              for e in page.console_errors), page.console_errors
    finally:
        page.context.close()
