"""What a person typed survives what takes them away from the form (issue #21, item 7): a
language switch on the join form, switching the program's kind, a session that ended before
an owner's form was sent (back on the form after signing in, nothing sent on its own), and
the purchase amount on the counter while a manager unlocks a PIN."""
import re
from urllib.parse import urlencode

from loyalty.extensions import db
from loyalty.models import LoyaltyProgram
from loyalty.services.engine import staff_pins
from loyalty.services.merchant import texts as merchant_texts
from loyalty.services.platform import sessions
from tests import factories
from tests.conftest import csrf_token_from

TYPED = {"first_name": "Chloé", "last_name": "Muller", "email": "chloe@example.com",
         "phone": "621 123 456", "language": "en", "consent": "y", "website": ""}


def _input(page, name):
    """The tag of the input named ``name`` ("" when the page has none)."""
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    return match.group(0) if match else ""


def _value(page, name):
    """The value the input named ``name`` shows (None when the page has no such input)."""
    tag = _input(page, name)
    value = re.search(r'value="([^"]*)"', tag)
    return value.group(1) if value else ("" if tag else None)


def test_switching_language_on_the_join_form_keeps_what_was_typed(client, merchant):
    factories.stamp_program(merchant.merchant)
    page = client.get("/m/cafe-test/join?store=C1")
    assert 'form="join-form"' in page.text  # the language buttons send the join form along
    switched = client.post("/lang/fr?next=/m/cafe-test/join?store%3DC1",
                           data={**TYPED, "csrf_token": csrf_token_from(page)})
    assert switched.location == "/m/cafe-test/join?store=C1"
    french = client.get(switched.location).get_data(as_text=True)
    assert "Prénom" in french
    assert _value(french, "first_name") == "Chloé" and _value(french, "last_name") == "Muller"
    assert _value(french, "email") == "chloe@example.com"
    assert _value(french, "phone") == "621 123 456"
    assert "checked" in _input(french, "consent")
    assert re.search(r'<option selected value="fr">|<option value="fr" selected', french)
    again = client.get("/m/cafe-test/join").get_data(as_text=True)
    assert _value(again, "first_name") == ""  # kept for one showing, not for ever


def _inputs(page):
    """What a browser sends from ``page``'s inputs and selects (htmx's ``hx-include``)."""
    sent = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]*)"', tag)
        if name and not re.search(r'type="(checkbox|radio)"', tag):
            sent[name.group(1)] = _value(page, name.group(1))
    for name, options in re.findall(r'<select[^>]*name="([^"]*)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option (?:selected value="([^"]*)"|value="([^"]*)" selected)', options)
        sent[name] = next(value for value in chosen.groups() if value is not None)
    return sent


def test_switching_the_programs_kind_and_back_keeps_what_was_typed(client, auth, merchant):
    auth.login_as(merchant.owner)
    page = client.get("/merchant/program").get_data(as_text=True)
    typed = {**_inputs(page), "card_name": "Café stamps", "stamps_target": "8",
             "stamp_reward_description": "A free cake", "stamp_reward_value": "4.50"}
    fields = "/merchant/program/fields"
    htmx = {"HX-Request": "true"}
    points = client.get(fields, headers=htmx, query_string={**typed, "program_type": "points"})
    assert 'id="stamps_target"' not in points.text  # the stamps fields are not shown ...
    on_points = {**_inputs(points.text), "points_per_euro": "5"}
    back = client.get(fields, headers=htmx,
                      query_string={**on_points, "program_type": "stamps"}).get_data(as_text=True)
    assert _value(back, "stamps_target") == "8"  # ... but come back as they were typed
    assert _value(back, "stamp_reward_description") == "A free cake"
    assert _value(back, "stamp_reward_value") == "4.50"
    assert _value(back, "card_name") == "Café stamps"
    both = client.get(fields, headers=htmx, query_string={**_inputs(back),
                                                          "program_type": "hybrid"}).text
    assert _value(both, "points_per_euro") == "5" and _value(both, "stamps_target") == "8"
    token = csrf_token_from(client.get("/account"))
    saved = client.post("/merchant/program", data={**_inputs(back), "csrf_token": token,
                                                   "program_type": "stamps"})
    assert saved.status_code == 302  # what the points fields hold does not stop a stamp card
    db.session.commit()
    program = db.session.scalar(db.select(LoyaltyProgram))
    assert (program.stamps_target, program.stamp_reward_description) == (8, "A free cake")


def test_the_purchase_amount_is_still_there_after_a_manager_unlocks_the_pin(terminal, merchant):
    factories.points_program(merchant.merchant, require_staff_pin=True)
    card = factories.card(merchant.merchant, "Pin Paul", email="paul@example.com")
    store = merchant.stores[0]
    tom = staff_pins.create_staff_pin(merchant.merchant, store, "Tom", "1234")
    lena = staff_pins.update_staff_pin(
        staff_pins.create_staff_pin(merchant.merchant, store, "Lena", "5678"), "Lena",
        can_unlock=True)
    terminal.sign_in(merchant.staff)
    typed = {"amount": "12.50", "order_reference": "R-77"}
    for _ in range(5):
        locked = terminal.act(card.id, "earn", pin="9999", staff_pin_id=tom.id, **typed)
    assert locked.status_code == 423 and _value(locked.text, "amount") == "12.50"
    # The unlock button sends what the sheet holds (htmx: hx-include, hx-params).
    button = re.search(r'<button[^>]*data-testid="open-unlock"[^>]*>', locked.text).group(0)
    assert 'hx-include="closest form"' in button
    assert 'hx-params="amount,order_reference,quantity"' in button
    opened = re.search(r'hx-get="([^"]*)"', button).group(1).replace("&amp;", "&")
    sheet = terminal.client.get(f"{opened}&{urlencode(typed)}", headers=terminal.HTMX)
    assert "Unlock Tom" in sheet.text
    action = re.search(r'hx-post="([^"]*)"', sheet.text).group(1).replace("&amp;", "&")
    unlocked = terminal.client.post(action, data={"staff_pin_id": lena.id, "pin": "5678",
                                                  "way": "pin"},
                                    headers={**terminal.HTMX, "X-CSRFToken": terminal.token})
    assert "Tom&#39;s PIN works again." in unlocked.text
    assert _value(unlocked.text, "amount") == "12.50"
    assert _value(unlocked.text, "order_reference") == "R-77"
    earned = terminal.act(card.id, "earn", pin="1234", staff_pin_id=tom.id,
                          **{name: _value(unlocked.text, name) for name in typed})
    assert earned.status_code == 200 and "125 points added." in earned.text


PROGRAM_TYPED = {"program_type": "stamps", "card_name": "Typed before the session ended",
                 "stamps_target": "9", "stamp_reward_description": "A typed reward",
                 "stamp_reward_value": "3.10", "cooldown_minutes": "15",
                 "max_stamps_per_day": "5", "require_staff_pin": "y"}
FROM_THE_PROGRAM_PAGE = {"Referer": "http://localhost/merchant/program"}


def _sign_in_from(client, login_page, user):
    return client.post(login_page.request.path + "?" + login_page.request.query_string.decode(),
                       data={"email": user.email, "password": factories.PASSWORD,
                             "csrf_token": csrf_token_from(login_page)})


def test_an_owners_form_sent_after_the_session_ended_comes_back_filled_after_sign_in(
        client, auth, merchant, frozen_clock):
    auth.login_as(merchant.owner)
    token = csrf_token_from(client.get("/merchant/program"))
    frozen_clock.advance(hours=13)  # idle longer than a session lasts
    sent = client.post("/merchant/program", data={**PROGRAM_TYPED, "csrf_token": token},
                       headers=FROM_THE_PROGRAM_PAGE)
    assert sent.status_code == 302 and sent.location == "/login?next=/merchant/program"
    login = client.get(sent.location)
    assert "Your session has ended. Sign in again." in login.text
    assert "Typed before" not in login.text
    back = _sign_in_from(client, login, merchant.owner)
    assert back.location == "/merchant/program"  # the form's page, not the start page
    page = client.get(back.location).get_data(as_text=True)
    assert "What you typed is back in the form. Check it and send it again." in page
    assert _value(page, "card_name") == "Typed before the session ended"
    assert _value(page, "stamps_target") == "9" and _value(page, "stamp_reward_value") == "3.10"
    db.session.commit()
    assert db.session.scalar(db.select(LoyaltyProgram)) is None  # nothing sent on its own
    saved = client.post("/merchant/program", data={**_inputs(page), "require_staff_pin": "y"})
    assert saved.status_code == 302 and saved.location == "/merchant/program"
    db.session.commit()
    assert db.session.scalar(db.select(LoyaltyProgram)).card_name == "Typed before the session ended"
    again = client.get("/merchant/program").get_data(as_text=True)
    assert "What you typed is back" not in again


def test_a_form_sent_without_any_session_cookie_comes_back_after_sign_in(app, client, merchant):
    """The cookie is gone, and the CSRF token with it: refused, sent to sign in, kept."""
    sent = client.post("/merchant/stores", data={"name": "Kirchberg", "code": "KB",
                                                     "address": "1 Avenue JFK",
                                                     "csrf_token": "stale-token"})
    assert sent.status_code == 302 and sent.location == "/login?next=/merchant/stores"
    login = client.get(sent.location)
    assert "Your session expired. Sign in again." in login.text
    page = client.get(_sign_in_from(client, login, merchant.owner).location).text
    assert "What you typed is back in the form." in page
    assert _value(page, "name") == "Kirchberg" and _value(page, "code") == "KB"


def test_what_an_owner_typed_comes_back_to_them_only(client, auth, merchant, other_merchant):
    auth.login_as(merchant.owner)
    token = csrf_token_from(client.get("/merchant/program"))
    sessions.end_sessions_of(merchant.owner.id, sessions.SIGNED_OUT)
    sent = client.post("/merchant/program", data={**PROGRAM_TYPED, "csrf_token": token},
                       headers=FROM_THE_PROGRAM_PAGE)
    login = client.get(sent.location)
    page = client.get(_sign_in_from(client, login, other_merchant.owner).location).text
    assert "Typed before the session ended" not in page
    assert "What you typed is back" not in page


def test_a_password_typed_into_a_form_is_never_kept(client, auth, merchant):
    auth.login_as(merchant.owner)
    token = csrf_token_from(client.get("/account"))
    sessions.end_sessions_of(merchant.owner.id, sessions.SIGNED_OUT)
    client.post("/account/password", headers={"Referer": "http://localhost/account"},
                data={"current_password": "secret-one", "new_password": "secret-two-long",
                      "confirm_password": "secret-two-long", "csrf_token": token})
    with client.session_transaction() as cookie_session:
        assert "secret" not in str(dict(cookie_session))


def _texts_fields(page):
    fields = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = _value(page, name.group(1))
    for name in re.findall(r'<textarea[^>]*name="([^"]*)"', page):
        fields[name] = ""
    return fields


def test_every_language_of_the_texts_page_is_in_one_form_and_saved_at_once(client, auth,
                                                                            merchant):
    factories.stamp_program(merchant.merchant)
    auth.login_as(merchant.owner)
    page = client.get("/merchant/languages?lang=de").get_data(as_text=True)
    assert page.count("<form") == page.count("</form>")
    form = page[page.index('<form method="post" class="card settings-form"'):]
    form = form[:form.index("</form>")]
    assert all(f'name="{code}-card_name"' in form for code in ("fr", "de", "lb"))
    assert 'href="#texts-fr"' in page  # a tab shows part of the form; no page is loaded
    typed = {**_texts_fields(page), "fr-card_name": "Carte café", "de-card_name": "Kaffeekarte"}
    saved = client.post("/merchant/languages?lang=de", data=typed)
    assert saved.status_code == 302 and saved.location.endswith("?lang=de")
    db.session.commit()
    assert db.session.scalar(db.select(LoyaltyProgram)).translations == {
        "fr": {"card_name": "Carte café"}, "de": {"card_name": "Kaffeekarte"}}


def test_a_mistake_in_one_language_keeps_what_was_typed_in_all(client, auth, merchant):
    factories.stamp_program(merchant.merchant)
    auth.login_as(merchant.owner)
    page = client.get("/merchant/languages").get_data(as_text=True)
    typed = {**_texts_fields(page), "fr-card_name": "Carte café", "lb-card_name": "x" * 121}
    refused = client.post("/merchant/languages?lang=fr", data=typed)
    assert refused.status_code == 422
    assert _value(refused.text, "fr-card_name") == "Carte café"
    assert _value(refused.text, "lb-card_name") == "x" * 121
    assert 'data-shown="lb"' in refused.text  # the tab with the mistake shows


def test_a_language_left_as_it_was_does_not_undo_another_owners_save(client, auth, merchant):
    program = factories.stamp_program(merchant.merchant)
    auth.login_as(merchant.owner)
    page = client.get("/merchant/languages").get_data(as_text=True)  # opened, then ...
    merchant_texts.save_texts(program, [], "de", actor=None, reward_texts={},
                              program_texts={"card_name": "Kaffeekarte"})  # ... saved elsewhere
    typed = {**_texts_fields(page), "fr-card_name": "Carte café"}
    assert client.post("/merchant/languages?lang=fr", data=typed).status_code == 302
    db.session.commit()
    assert db.session.scalar(db.select(LoyaltyProgram)).translations == {
        "fr": {"card_name": "Carte café"}, "de": {"card_name": "Kaffeekarte"}}
