"""The customer's own card page: opened by its secret link only, private, in their language."""
import re

from loyalty.extensions import db
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.points import earn_points
from tests import factories


def test_the_card_page_shows_the_qr_code_balance_rewards_history_and_stores(client, merchant):
    factories.points_program(merchant.merchant, welcome_bonus_points=40)
    card = factories.card(merchant.merchant, "Carla Client", email="carla@example.com")
    earn_points(card, 1250, context=ActionContext(store_id=merchant.stores[0].id))
    db.session.commit()
    response = client.get(f"/card/{card.page_secret}")
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert "no-store" in response.headers["Cache-Control"]
    page = response.get_data(as_text=True)
    assert '<meta name="robots" content="noindex, nofollow">' in page
    assert '<svg' in page and 'class="segno"' in page
    assert card.card_number in page and "Carla Client" in page
    assert re.search(r'data-testid="points-balance">165<', page)  # 40 + 125
    assert "Croissant" in page and "yours at the counter now" in page
    assert "35 points to go" in page  # the 200-point cake
    assert "Purchase" in page and "Café Test store 1" in page
    assert "1 Main Street" in page
    assert card.qr_token not in page.replace('class="segno"', "")  # drawn, not written out


def test_an_unknown_or_malformed_secret_is_not_found(client, merchant):
    for secret in ("x" * 43, "short", "a" * 70, "%00" * 30):
        response = client.get(f"/card/{secret}")
        assert response.status_code == 404
        assert "We could not find this card" in response.get_data(as_text=True)
    assert client.get("/card/../../etc").status_code == 404


def test_the_page_speaks_the_customers_language_and_says_a_card_is_deactivated(client,
                                                                              merchant):
    factories.stamp_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Dora Deutsch", email="dora@example.com")
    card.customer.preferred_locale = "de"
    card.is_active = False
    db.session.commit()
    page = client.get(f"/card/{card.page_secret}").get_data(as_text=True)
    assert '<html lang="de">' in page
    assert "Diese Karte wurde deaktiviert" in page
    assert 'class="segno"' not in page
    assert "10 Stempel bis" in page


def test_history_is_paginated(client, merchant, frozen_clock):
    factories.points_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Busy Bo", email="bo@example.com")
    for _ in range(25):
        earn_points(card, 100, context=ActionContext(store_id=merchant.stores[0].id))
        frozen_clock.advance(minutes=1)
    db.session.commit()
    first = client.get(f"/card/{card.page_secret}").get_data(as_text=True)
    second = client.get(f"/card/{card.page_secret}?page=2").get_data(as_text=True)
    assert first.count("Purchase") == 20 and "Older" in first
    assert second.count("Purchase") == 5 and "Card created" in second and "Newer" in second
