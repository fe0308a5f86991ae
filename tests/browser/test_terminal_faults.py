"""The tablet when the database connection drops under an action: the server answers 503
with Retry-After (nothing saved), and the tablet sends the same form again by itself, once."""
import re

import pytest

from loyalty.models import TransactionType
from tests.browser.test_terminal_flow import (
    CAFE_STAFF,
    _card_of,
    _ledger_count,
    _open_card,
    _sign_in,
    _stamps,
    _type_pin,
)

pytestmark = pytest.mark.browser

LOST = ('<section class="error-panel" role="alert"><h1>Connection lost for a moment</h1>'
        '<p>This may not have been saved.</p></section>')


def _stamp_with_pin(page):
    page.click("text=Add stamp")
    page.click(".chip:has-text('Tom')")
    _type_pin(page, "1234")
    page.click(".sheet button[type=submit]")


def _answer_503_first(page, times):
    """The first ``times`` stamp posts get the server's 503 answer; later ones go through.
    Returns the list of idempotency keys the tablet sent."""
    keys = []

    def handle(route):
        if route.request.method != "POST":  # the sheet itself (GET .../sheet/stamp)
            route.continue_()
            return
        body = (route.request.post_data_buffer or b"").decode("utf-8", "replace")
        keys.append((re.search(r"idempotency_key\W+([A-Za-z0-9_-]+)", body) or [None, None])[1])
        if len(keys) <= times:
            route.fulfill(status=503, headers={"Retry-After": "1"}, body=LOST,
                          content_type="text/html")
        else:
            route.continue_()

    page.route("**/stamp", handle)
    return keys


def test_a_lost_connection_is_retried_once_with_the_same_key(tablet, live_server):
    card_id, number = _card_of(live_server.app, "marie@example.lu")
    _sign_in(tablet, CAFE_STAFF)
    _open_card(tablet, number)
    before, rows = _stamps(tablet), _ledger_count(live_server.app, card_id,
                                                  TransactionType.STAMP_EARNED)
    keys = _answer_503_first(tablet, 1)
    _stamp_with_pin(tablet)
    tablet.wait_for_selector(".banner-success:has-text('Stamp added')")
    tablet.shot("stamped-after-retry")
    assert len(keys) == 2 and keys[0] == keys[1]  # the same action, sent twice
    assert _stamps(tablet) == before + 1
    assert _ledger_count(live_server.app, card_id, TransactionType.STAMP_EARNED) == rows + 1


def test_the_error_shows_when_the_retry_fails_too(tablet, live_server):
    card_id, number = _card_of(live_server.app, "paul@example.lu")
    _sign_in(tablet, CAFE_STAFF)
    _open_card(tablet, number)
    rows = _ledger_count(live_server.app, card_id, TransactionType.STAMP_EARNED)
    keys = _answer_503_first(tablet, 2)
    _stamp_with_pin(tablet)
    tablet.wait_for_selector(".sheet .sheet-fault >> text=Connection lost for a moment")
    tablet.shot("connection-lost")
    assert tablet.locator(".sheet button[type=submit]").is_visible()  # ready to try again
    assert len(keys) == 2
    assert _ledger_count(live_server.app, card_id, TransactionType.STAMP_EARNED) == rows
