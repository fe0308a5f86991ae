"""The card onto the customer's phone: the page after joining says what happens next, the
welcome email leaves at once, and at the counter a QR code opens a card's own page once."""
import html
import re

import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import AuditEntry, CardHandoff, LoyaltyCard, SentEmail
from loyalty.services.audit import Actor
from loyalty.services.customers import card_handoffs
from loyalty.services.engine import cards
from loyalty.services.engine.ledger import ActionContext
from tests import factories
from tests.conftest import csrf_token_from


def _join(client, email):
    token = csrf_token_from(client.get("/m/cafe-test/join"))
    return client.post("/m/cafe-test/join", data={
        "csrf_token": token, "first_name": "Chloé", "last_name": "Muller", "email": email,
        "phone": "", "language": "en", "consent": "y", "website": ""})


def _without_tokens(page):
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', page)


def test_the_page_after_joining_says_what_happens_next_and_the_same_for_a_known_address(
        client, merchant):
    factories.stamp_program(merchant.merchant)
    db.session.commit()
    first = _join(client, "chloe@example.com")
    new_page = client.get(first.location).get_data(as_text=True)
    assert "Your card is on its way" in new_page
    assert "staff find your card by your name or email address" in new_page
    assert "staff can show a code that opens your card on your phone" in new_page
    # the welcome email left with the answer, not minutes later
    db.session.commit()
    assert [e.template for e in db.session.scalars(select(SentEmail))] == ["welcome"]

    again = _join(client, "chloe@example.com")  # a card exists: nothing on the page says so
    assert again.location == first.location
    # the same page, but for the form's CSRF token (signed with the second it was made)
    assert _without_tokens(client.get(again.location).get_data(as_text=True)) == \
        _without_tokens(new_page)


def test_asking_for_the_link_again_is_worded_for_any_address(client, merchant):
    factories.stamp_program(merchant.merchant)
    db.session.commit()
    token = csrf_token_from(client.get("/m/cafe-test/"))
    answer = client.post("/m/cafe-test/card-link", data={"csrf_token": token,
                                                          "email": "nobody@example.com"})
    page = client.get(answer.location).get_data(as_text=True)
    assert "Check your inbox" in page
    assert "If a card of Café Test is registered under this address" in page
    assert "Your card is on its way" not in page


@pytest.fixture
def walk_in(merchant):
    """A customer enrolled at the counter with a phone number and no email."""
    factories.stamp_program(merchant.merchant)
    card = cards.enroll_customer(merchant.merchant, name="Walter Walkin", phone="621 123 456",
                                 context=ActionContext(store_id=merchant.stores[0].id))
    db.session.commit()
    return card


def _shown_link(terminal, card_id, monkeypatch):
    """Open the phone sheet; returns (answer, the link its QR code holds)."""
    shown = []
    real_show = card_handoffs.show

    def spy(*args, **kwargs):
        handoff = real_show(*args, **kwargs)
        shown.append(handoff.url)
        return handoff

    monkeypatch.setattr(card_handoffs, "show", spy)
    answer = terminal.client.post(f"/terminal/cards/{card_id}/phone-link",
                                  headers={**terminal.HTMX, "X-CSRFToken": terminal.token})
    return answer, (shown[0] if shown else None)


def test_staff_show_a_qr_code_that_opens_the_card_once(terminal, client, merchant, walk_in,
                                                      monkeypatch):
    terminal.sign_in(merchant.staff)
    panel = client.get(f"/terminal/cards/{walk_in.id}").get_data(as_text=True)
    assert 'data-testid="phone-link"' in panel and "Card on their phone" in panel

    answer, link = _shown_link(terminal, walk_in.id, monkeypatch)
    sheet = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 200 and answer.headers["HX-Retarget"] == "#sheet"
    assert "Open the card on Walter Walkin's phone" in sheet and "<svg" in sheet
    assert "The code works once, for 10 minutes." in sheet
    assert walk_in.page_secret not in sheet  # the code holds a one-time token, not the card's key
    assert re.fullmatch(r"http://[^/]+/c/[A-Za-z0-9_-]{43}", link)

    client.get("/logout")  # the customer's phone: nobody signed in
    opened = client.get(link[link.index("/c/"):])
    assert opened.status_code == 303
    assert opened.location == f"/card/{walk_in.page_secret}?welcome=1"
    card_page = client.get(opened.location).get_data(as_text=True)
    assert "Walter Walkin" in card_page and "This is your card. Keep this page" in card_page

    second = client.get(link[link.index("/c/"):])  # a second scan, another phone, a photo
    assert second.status_code == 410
    assert "Ask at the counter for a new QR code" in second.get_data(as_text=True)
    assert walk_in.page_secret not in second.get_data(as_text=True)
    db.session.commit()
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "card.phone_link"))
    assert (entry.actor_id, entry.target_id) == (merchant.staff.id, walk_in.id)


def test_a_code_stops_after_ten_minutes_and_when_a_new_one_is_shown(app, merchant, walk_in,
                                                                  client, frozen_clock):
    actor = Actor(user_id=merchant.staff.id, merchant_id=merchant.merchant.id)
    old = card_handoffs.show(walk_in, actor)
    newer = card_handoffs.show(walk_in, actor)
    assert client.get(old.url[old.url.index("/c/"):]).status_code == 410  # retired by the newer
    frozen_clock.advance(minutes=10, seconds=1)
    assert client.get(newer.url[newer.url.index("/c/"):]).status_code == 410
    late = card_handoffs.show(walk_in, actor)
    frozen_clock.advance(minutes=9)
    assert client.get(late.url[late.url.index("/c/"):]).status_code == 303
    db.session.commit()
    assert len(db.session.scalars(select(CardHandoff)).all()) == 1  # one row per card at most


@pytest.mark.parametrize("token", ["x", "A" * 43, "A" * 5000, "%00" * 43, "é" * 43])
def test_unknown_or_malformed_links_are_refused_kindly(client, merchant, token):
    answer = client.get(f"/c/{token}")
    assert answer.status_code in (404, 410)
    assert "Ask at the counter for a new QR code" in answer.get_data(as_text=True)


def test_a_deactivated_card_or_another_merchants_card_shows_no_code(
        terminal, client, merchant, other_merchant, walk_in):
    factories.stamp_program(other_merchant.merchant)
    theirs = factories.card(other_merchant.merchant, "Olga Other")
    db.session.commit()
    terminal.sign_in(merchant.staff)
    headers = {**terminal.HTMX, "X-CSRFToken": terminal.token}
    assert client.post(f"/terminal/cards/{theirs.id}/phone-link", headers=headers).status_code == 404
    cards.deactivate_card(db.session.get(LoyaltyCard, walk_in.id), reason="lost")
    refused = client.post(f"/terminal/cards/{walk_in.id}/phone-link", headers=headers)
    assert refused.status_code == 409 and "Reactivate it first" in refused.get_data(as_text=True)
    no_token = client.post(f"/terminal/cards/{walk_in.id}/phone-link", headers=terminal.HTMX)
    assert no_token.status_code == 400  # CSRF holds
    db.session.commit()
    assert db.session.scalars(select(CardHandoff)).all() == []
