"""The public program page and joining it: what customers see, and every way a sign-up is
refused."""
import dataclasses

import pytest
from sqlalchemy import event, func, select

from loyalty.extensions import db
from loyalty.models import Customer, LoyaltyCard, LoyaltyTransaction, OutboxMessage, SentEmail
from loyalty.services import outbox
from loyalty.services.customers.storefront import PublicProgram, public_program
from loyalty.services.engine.ledger import ledger_drift
from loyalty.services.merchant import programs, stores
from tests import factories
from tests.conftest import choose_language, csrf_token_from

PUBLIC_FIELDS = {
    "slug", "shop", "card_name", "primary_color", "secondary_color", "logo_url",
    "hero_image_url", "has_stamps", "has_points", "offer", "rewards", "stores", "terms_text",
    "privacy_url", "self_enrollment", "language", "text_lang", "birthday_bonus",
}


def _join(client, slug="cafe-test", **fields):
    token = csrf_token_from(client.get(f"/m/{slug}/join"))
    data = {"csrf_token": token, "first_name": "Chloé", "last_name": "Muller",
            "email": "chloe@example.com", "phone": "", "language": "fr", "consent": "y",
            "website": "", **fields}
    return client.post(f"/m/{slug}/join", data=data)


def _emails():
    db.session.commit()
    return db.session.scalars(select(SentEmail).order_by(SentEmail.id)).all()


def _cards():
    db.session.commit()
    return db.session.scalar(select(func.count(LoyaltyCard.id)))


@pytest.mark.parametrize("kind", ["stamps", "points", "hybrid"])
def test_the_program_page_explains_each_kind_of_program(client, merchant, kind):
    program = {"stamps": factories.stamp_program, "points": factories.points_program,
               "hybrid": factories.hybrid_program}[kind](merchant.merchant)
    programs.update_program(program, terms_text="Points are personal.",
                            apple_pass_type_id="pass.secret.example")
    db.session.commit()
    page = client.get("/m/cafe-test/").get_data(as_text=True)
    assert program.card_name in page and "Join" in page and "1 Main Street" in page
    assert ("Reward after 10 stamps: A free coffee." in page) == (kind == "stamps")
    assert ("Earn 10 points for every euro you spend." in page) == (kind != "stamps")
    assert ("Croissant" in page) == (kind == "points")
    assert "Points are personal." in page
    assert "pass.secret.example" not in page and f'"{program.id}"' not in page


def test_public_pages_expose_only_the_whitelisted_fields(app, merchant):
    factories.points_program(merchant.merchant)
    public = public_program(merchant.merchant, "en")
    assert {f.name for f in dataclasses.fields(PublicProgram)} == PUBLIC_FIELDS
    assert {f.name for f in dataclasses.fields(public.rewards[0])} == {
        "name", "description", "points_cost", "lang"}
    assert {f.name for f in dataclasses.fields(public.stores[0])} == {
        "name", "address", "opening_note"}


def test_unknown_shop_and_inactive_program_are_friendly_not_found(client, merchant):
    program = factories.stamp_program(merchant.merchant)
    assert client.get("/m/no-such-shop/").status_code == 404
    programs.deactivate_program(program)
    db.session.commit()
    response = client.get("/m/cafe-test/")
    assert response.status_code == 404
    assert "no loyalty program running" in response.get_data(as_text=True)
    assert client.get("/m/cafe-test/join").status_code == 404


def test_joining_creates_the_card_with_its_bonus_once_and_emails_its_link(client, merchant):
    factories.points_program(merchant.merchant, welcome_bonus_points=50,
                             terms_text="Our terms.")
    response = _join(client)
    assert response.status_code == 302 and response.location.endswith("/m/cafe-test/join/sent")
    assert "Your card is on its way" in client.get(response.location).get_data(as_text=True)
    customer = db.session.scalar(select(Customer).where(Customer.email == "chloe@example.com"))
    card = db.session.scalar(select(LoyaltyCard).where(LoyaltyCard.customer_id == customer.id))
    assert (customer.name, customer.preferred_locale) == ("Chloé Muller", "fr")
    assert customer.consent_at is not None and len(customer.terms_version) == 12
    assert card.points_balance == 50
    [welcome] = _emails()
    assert welcome.template == "welcome" and welcome.locale == "fr"
    assert welcome.subject == "Bienvenue chez Café Test : votre carte de fidélité"
    assert f"/card/{card.page_secret}" in welcome.body_text
    assert "50 points" in welcome.body_text

    again = _join(client)  # the same address again: same answer, no second card or bonus
    assert again.status_code == 302 and again.location.endswith("/join/sent")
    assert _cards() == 1
    db.session.refresh(card)
    assert card.points_balance == 50
    assert [email.template for email in _emails()] == ["welcome", "card_link"]
    assert ledger_drift() == []


def test_each_refusal_says_what_to_do(client, merchant):
    factories.stamp_program(merchant.merchant)
    no_consent = _join(client, consent="")
    assert no_consent.status_code == 422
    assert "Tick the box to accept the terms" in no_consent.get_data(as_text=True)
    bad_email = _join(client, email="chloe-at-example")
    assert bad_email.status_code == 422
    assert "Enter a valid email address" in bad_email.get_data(as_text=True)
    bot = _join(client, website="http://spam.example")
    assert bot.status_code == 302
    assert _cards() == 0 and _emails() == []

    programs.update_settings(merchant.id, allow_self_enrollment=False)
    db.session.commit()
    off = client.get("/m/cafe-test/join")
    assert off.status_code == 403
    assert "Ask for your card at the counter" in off.get_data(as_text=True)


def test_sign_ups_for_one_email_are_limited(client, merchant):
    factories.stamp_program(merchant.merchant)
    for _ in range(3):
        assert _join(client).status_code == 302
    limited = _join(client)
    assert limited.status_code == 429
    assert "Too many sign-ups from here" in limited.get_data(as_text=True)
    assert _cards() == 1


def test_a_customer_gets_their_card_link_again_and_strangers_learn_nothing(client, merchant):
    factories.stamp_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Lou Lost", email="lou@example.com")
    db.session.commit()
    page = client.get("/m/cafe-test/")
    token = csrf_token_from(page)
    known = client.post("/m/cafe-test/card-link", data={"csrf_token": token,
                                                         "email": "LOU@example.com "})
    unknown = client.post("/m/cafe-test/card-link", data={"csrf_token": token,
                                                           "email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known.location == unknown.location
    [email] = _emails()
    assert email.to_address == "lou@example.com" and email.template == "card_link"
    assert "As you asked, here is the link to your card at Café Test" in email.body_text
    assert f"/card/{card.page_secret}" in email.body_text
    bad = client.post("/m/cafe-test/card-link", data={"csrf_token": token, "email": "lou"})
    assert bad.status_code == 422 and "Enter a valid email address" in bad.get_data(as_text=True)


def _statements_of(client, url, data):
    """(answer, SQL statements the request ran)."""
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.post(url, data=data)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return response, len(statements)


def test_asking_for_the_link_does_the_same_work_for_a_known_and_an_unknown_address(
        client, merchant, monkeypatch):
    factories.stamp_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Lou Lost", email="lou@example.com")
    db.session.commit()
    handed_over = []  # as with Redis: the request hands its rows to the queue, a worker sends
    monkeypatch.setattr(outbox, "jobs_inline", lambda: False)
    monkeypatch.setattr(outbox, "_enqueue", handed_over.extend)
    token = csrf_token_from(client.get("/m/cafe-test/"))
    url = "/m/cafe-test/card-link"
    client.post(url, data={"csrf_token": token, "email": "warm@example.com"})
    answers, counts = [], []
    for email in ("lou@example.com", "nobody@example.com", "LOU@example.com",
                  "someone@example.com"):
        response, statements = _statements_of(client, url, {"csrf_token": token,
                                                            "email": email})
        answers.append((response.status_code, response.location, response.get_data()))
        counts.append(statements)
    assert len(set(answers)) == 1 and answers[0][0] == 302
    assert len(set(counts)) == 1  # the same statements, whether the address has a card or not
    db.session.commit()
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [row.payload["template"] for row in rows] == ["card_link"] * 5
    assert [row.payload["lookup"]["email"] for row in rows[1:]] == [
        "lou@example.com", "nobody@example.com", "lou@example.com", "someone@example.com"]
    assert [outbox_id for outbox_id, _queue in handed_over] == [row.id for row in rows]
    assert _emails() == []  # the requests only recorded the rows

    for outbox_id, _queue in handed_over:  # the worker's jobs
        outbox.deliver(outbox_id)
    sent = _emails()
    assert [email.to_address for email in sent] == ["lou@example.com"] * 2
    assert f"/card/{card.page_secret}" in sent[0].body_text
    db.session.expire_all()
    done = db.session.scalars(select(OutboxMessage)).all()
    assert all(row.delivered_at is not None for row in done)
    assert all("lookup" not in row.payload for row in done)  # typed addresses are not kept


def test_sign_ups_with_a_customers_phone_email_them_at_most_their_budget(app, client, merchant):
    factories.stamp_program(merchant.merchant)
    factories.card(merchant.merchant, "Vera Victim", email="vera@example.com",
                   phone="+352621555777")
    db.session.commit()
    budget = int(app.config["CARD_LINK_RECIPIENT_LIMIT"].split()[0])
    for n in range(budget + 4):  # a new address each time, the customer's phone number
        response = _join(client, email=f"attacker{n}@example.com", phone="621 555 777")
        assert response.status_code == 302 and response.location.endswith("/join/sent")
    assert [email.to_address for email in _emails()] == ["vera@example.com"] * budget
    assert _cards() == 1
    token = csrf_token_from(client.get("/m/cafe-test/"))  # the customer asking counts too
    client.post("/m/cafe-test/card-link", data={"csrf_token": token,
                                                 "email": "vera@example.com"})
    assert len(_emails()) == budget


def _joined_card(email):
    db.session.commit()
    return db.session.scalar(select(LoyaltyCard).join(Customer).where(Customer.email == email))


def test_a_stores_join_link_makes_the_card_that_stores_and_its_manager_sees_it(client, auth,
                                                                             merchant):
    factories.points_program(merchant.merchant, welcome_bonus_points=20)
    first = merchant.stores[0]
    assert _join(client, email="gare@example.com").status_code == 302  # no store
    token = csrf_token_from(client.get("/m/cafe-test/join?store=s1"))
    joined = client.post("/m/cafe-test/join?store=s1", data={
        "csrf_token": token, "first_name": "Stella", "last_name": "Store",
        "email": "stella@example.com", "phone": "", "language": "en", "consent": "y"})
    assert joined.status_code == 302
    card = _joined_card("stella@example.com")
    assert card.enrolled_at_store_id == first.id
    assert set(db.session.scalars(select(LoyaltyTransaction.store_id).where(
        LoyaltyTransaction.card_id == card.id))) == {first.id}  # card_created, welcome bonus
    assert _joined_card("gare@example.com").enrolled_at_store_id is None

    auth.login_as(merchant.manager)  # the manager of the first store sees the card
    assert "Stella Store" in client.get("/merchant/cards").text


@pytest.mark.parametrize("code", ["NOPE", "S2", "", "s" * 500])
def test_an_unknown_or_closed_stores_link_still_joins_with_no_store(client, merchant, code):
    factories.stamp_program(merchant.merchant)
    stores.set_store_open(merchant.stores[1], False)
    db.session.commit()
    token = csrf_token_from(client.get("/m/cafe-test/join", query_string={"store": code}))
    joined = client.post("/m/cafe-test/join", query_string={"store": code}, data={
        "csrf_token": token, "first_name": "Nora", "last_name": "Nowhere",
        "email": "nora@example.com", "phone": "", "language": "en", "consent": "y"})
    assert joined.status_code == 302
    assert _joined_card("nora@example.com").enrolled_at_store_id is None


def test_the_language_is_the_choice_then_the_browser_then_the_shop_default(client, merchant):
    factories.stamp_program(merchant.merchant)
    merchant.merchant.default_locale = "lb"
    db.session.commit()
    assert '<html lang="lb">' in client.get("/m/cafe-test/").get_data(as_text=True)
    browser = client.get("/m/cafe-test/", headers={"Accept-Language": "de-LU,de;q=0.9"})
    assert '<html lang="de">' in browser.get_data(as_text=True)
    unknown = client.get("/m/cafe-test/", headers={"Accept-Language": "pt-PT"})
    assert '<html lang="lb">' in unknown.get_data(as_text=True)
    chosen = choose_language(client, "fr", "/m/cafe-test/", page="/m/cafe-test/")
    assert "lang=fr" in chosen.headers["Set-Cookie"] and "Max-Age" in chosen.headers["Set-Cookie"]
    again = client.get("/m/cafe-test/", headers={"Accept-Language": "de"})
    assert '<html lang="fr">' in again.get_data(as_text=True)


def test_the_language_cookie_outlives_the_session(client, merchant):
    factories.stamp_program(merchant.merchant)
    client.set_cookie("lang", "de")
    assert '<html lang="de">' in client.get("/m/cafe-test/").get_data(as_text=True)
    client.set_cookie("lang", "xx")  # not a language of ours: ignored
    assert '<html lang="en">' in client.get("/m/cafe-test/").get_data(as_text=True)


def test_a_bad_phone_number_is_said_under_the_phone_field(client, merchant):
    factories.stamp_program(merchant.merchant)
    response = _join(client, phone="12")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="phone-errors"' in page and 'id="email-errors"' not in page
