"""A new shop's owner follows the getting-started checklist from nothing to the end: every step
is reachable in order, a page that needs an earlier step says so and links there, and the
checklist completes."""
import re

import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import AuditEntry, LoyaltyCard, Role, StaffPin, Store, soft_delete_cascade
from loyalty.services.engine import staff_pins
from loyalty.services.platform import accounts
from tests import factories
from tests.conftest import csrf_token_from

REVEALED = re.compile(r'data-testid="revealed-pin">(\d{4})<')
STEP = re.compile(r'<li class="step([^"]*)" data-step="(\w+)">(.*?)</li>', re.S)
OUTDATED = "This form is out of date"


@pytest.fixture
def newcomer(app, auth):
    """An owner whose shop has nothing yet: no program, no store, no PIN."""
    merchant = accounts.create_merchant("Épicerie Nouvelle", "epicerie-nouvelle")
    owner = factories.user("Noémie Owner")
    accounts.add_member(owner, merchant, Role.MERCHANT_OWNER)
    auth.login_as(owner)
    return merchant


def _post(client, url, data=None, **kwargs):
    token = csrf_token_from(client.get("/account"))
    return client.post(url, data={**(data or {}), "csrf_token": token}, **kwargs)


def _steps(client):
    """{step: (done, its markup)} as the start page lists them, and the page."""
    page = client.get("/merchant/").text
    steps = {key: ("done" in classes.split(), body) for classes, key, body in STEP.findall(page)}
    return steps, page


def _next_step(client, expected_done):
    """The first open step: it must be a link (nothing before it is missing)."""
    steps, page = _steps(client)
    assert f"{expected_done} of 7 steps done." in page
    key, (_done, body) = next((key, step) for key, step in steps.items() if not step[0])
    link = re.search(r'<a href="([^"]+)">', body)
    assert link, f"step {key} is not a link: {body}"
    return key, link.group(1)


def test_a_new_shop_walks_every_step_in_order_to_the_end(client, newcomer):
    steps, page = _steps(client)
    assert list(steps) == ["program", "reward", "store", "pin", "activate", "poster", "terminal"]
    assert "0 of 7 steps done." in page

    assert _next_step(client, 0) == ("program", "/merchant/program")
    assert _post(client, "/merchant/program", {
        "program_type": "points", "card_name": "Épicerie points", "points_per_euro": "10",
        "point_value": "1", "require_staff_pin": "y"}).status_code == 302

    assert _next_step(client, 1) == ("reward", "/merchant/rewards")
    assert _post(client, "/merchant/rewards",
                 {"name": "Croissant", "points_cost": "50"}).status_code == 302

    assert _next_step(client, 2) == ("store", "/merchant/stores")
    assert _post(client, "/merchant/stores", {"name": "Grand-Rue", "code": "GR"}).status_code == 302

    assert _next_step(client, 3) == ("pin", "/merchant/pins")
    added = _post(client, "/merchant/pins", {"staff_name": "Paul",
                                             "store_id": str(newcomer.stores[0].id)})
    pin = REVEALED.search(added.text).group(1)

    assert _next_step(client, 4) == ("activate", "/merchant/program/activate")
    assert _post(client, "/merchant/program/activate").status_code == 302

    assert _next_step(client, 5) == ("poster", "/merchant/poster")
    poster = client.get("/merchant/poster")
    printed = re.search(r'hx-post="([^"]+)" hx-trigger="beforeprint from:window once"', poster.text)
    assert printed, "the poster page records its printing"
    # What htmx sends when the browser prints the page.
    assert client.post(printed.group(1).replace("&amp;", "&"),
                       headers={"X-CSRFToken": csrf_token_from(poster)}).status_code == 204
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "poster.print"))
    assert entry.merchant_id == newcomer.id and entry.target_label == "A4"
    assert "printed the counter poster" in client.get("/merchant/activity").text

    assert _next_step(client, 6) == ("terminal", "/terminal/")
    terminal = client.get("/terminal/")
    assert terminal.status_code == 200 and 'data-testid="program-off"' not in terminal.text
    token = csrf_token_from(terminal)
    joined = client.post("/terminal/enroll", data={
        "name": "Cora", "email": "cora@example.com", "language": "fr",
        "idempotency_key": "join-1"}, headers={"HX-Request": "true", "X-CSRFToken": token})
    assert joined.status_code == 200
    card = db.session.scalar(select(LoyaltyCard))
    paul = db.session.scalar(select(StaffPin))
    earned = client.post(f"/terminal/cards/{card.id}/earn",
                         data={"amount": "12.50", "staff_pin_id": paul.id, "pin": pin,
                               "idempotency_key": "buy-1"},
                         headers={"HX-Request": "true", "X-CSRFToken": token})
    assert earned.status_code == 200, earned.text

    steps, page = _steps(client)
    assert steps == {} and "Getting started" not in page
    assert "Set-up is complete" in page and "7 of 7 steps done" in page


def test_the_pin_page_without_a_store_says_to_add_one_first_and_links_there(client, newcomer):
    page = client.get("/merchant/pins")
    assert "Add a store first" in page.text
    assert 'href="/merchant/stores"' in re.search(r'data-testid="needs-store">(.*?)</section>',
                                                  page.text, re.S).group(1)
    assert "Add and show the PIN" not in page.text  # no form that cannot be sent
    # A form sent from an older page is refused with the same advice, not "out of date".
    refused = _post(client, "/merchant/pins", {"staff_name": "Paul"})
    assert refused.status_code == 422
    assert "Add a store first" in refused.text and OUTDATED not in refused.text
    # On the checklist the PIN step waits for the store step and links to it.
    steps, _page = _steps(client)
    done, body = steps["pin"]
    assert not done and "needs step 3 first" in body and 'href="/merchant/stores"' in body


def test_a_closed_or_deleted_store_does_not_count_and_the_pin_page_asks_for_one(client,
                                                                              newcomer):
    closed = accounts.create_store(newcomer, "Gare", "GARE")
    deleted = accounts.create_store(newcomer, "Kiosk", "KIOSK")
    staff_pins.create_staff_pin(newcomer, deleted, "Tom", "1234")
    _post(client, f"/merchant/stores/{closed.id}/close")
    soft_delete_cascade(db.session.get(Store, deleted.id))  # as the admin's delete does
    db.session.commit()
    steps, _page = _steps(client)
    assert not steps["store"][0] and not steps["pin"][0]
    assert "Add a store first" in client.get("/merchant/pins").text


def test_pages_before_their_step_send_the_owner_to_what_is_missing(client, newcomer):
    for url in ("/merchant/program/activate", "/merchant/rewards", "/merchant/poster"):
        sent = client.get(url, follow_redirects=True)
        assert sent.request.path == "/merchant/program", url
        assert "Create your loyalty program first." in sent.text
    terminal = client.get("/terminal/", follow_redirects=True)
    assert terminal.request.path == "/terminal/store"
    assert "Add a store first" in terminal.text and 'href="/merchant/stores"' in terminal.text
    accounts.create_store(newcomer, "Gare", "GARE")
    off = client.get("/terminal/")
    assert 'data-testid="program-off"' in off.text and 'href="/merchant/program"' in off.text


def test_printing_the_poster_is_the_owners_and_needs_a_program(auth, client, newcomer):
    assert _post(client, "/merchant/poster/printed").status_code == 404
    team = factories.merchant_with_team("Café Test", "cafe-test")
    factories.stamp_program(team.merchant)
    auth.logout()
    auth.login_as(team.manager)
    assert _post(client, "/merchant/poster/printed").status_code == 403
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "poster.print")) is None
