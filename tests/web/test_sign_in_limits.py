"""Sign-in and PIN attempts are counted before they are checked, so parallel guesses cannot
race past the limit. The parallel tests run threads against a real server (Redis-backed
counters on the PostgreSQL run, in-memory ones on SQLite)."""
import re
import threading
import uuid
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener

import pytest
from sqlalchemy.exc import OperationalError

from loyalty.blueprints.terminal import views as terminal_views
from loyalty.extensions import db
from loyalty.services.engine import staff_pins
from tests import factories
from tests.conftest import PAUSED, AuthActions, Terminal, choose_language

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PARALLEL = 16


class _KeepRedirects(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 is an answer to look at, not to follow


class Browser:
    """One browser: its own cookies, talking to the live server."""

    def __init__(self, base):
        self.base = base
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()), _KeepRedirects)

    def request(self, path, data=None, headers=None):
        body = urlencode(data).encode() if data is not None else None
        request = Request(self.base + path, data=body, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except HTTPError as answer:
            return answer.code, answer.read().decode()

    def token(self, path="/login"):
        return TOKEN.search(self.request(path)[1]).group(1)


def _in_parallel(attempt):
    """Run ``attempt(i)`` in PARALLEL threads released at the same moment; their answers."""
    barrier = threading.Barrier(PARALLEL)
    answers = [None] * PARALLEL

    def run(i):
        barrier.wait()
        answers[i] = attempt(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_parallel_wrong_passwords_for_one_account_are_checked_at_most_the_limit(
        make_app, serve, merchant):
    server = serve(make_app())
    browsers = [Browser(server.url) for _ in range(PARALLEL)]
    tokens = [browser.token() for browser in browsers]
    answers = _in_parallel(lambda i: browsers[i].request("/login", {
        "email": merchant.owner.email, "password": "wrong-password", "csrf_token": tokens[i]}))
    statuses = sorted(status for status, _text in answers)
    assert statuses.count(401) <= 5  # LOGIN_ACCOUNT_ADDRESS_LIMIT: 5 per 5 minutes
    assert statuses.count(401) + statuses.count(429) == PARALLEL
    paused = next(text for status, text in answers if status == 429)
    assert PAUSED.search(paused)


def test_the_right_password_from_a_busy_address_still_signs_in_another_account(auth, merchant):
    for _ in range(8):
        auth.login(merchant.owner.email, "wrong-password")
    assert auth.login(merchant.owner.email).status_code == 429  # this account waits
    assert auth.login(merchant.staff.email).status_code == 302  # a colleague does not


def test_an_account_is_paused_whatever_address_the_guesses_come_from(make_app, merchant):
    client = make_app(LOGIN_ACCOUNT_LIMIT="6 per 15 minutes").test_client()

    def attempt(address):
        auth = AuthActions(client)
        return auth.login(merchant.owner.email, "wrong-password",
                          environ_base={"REMOTE_ADDR": address}).status_code

    assert [attempt(f"10.0.0.{n}") for n in range(1, 7)] == [401] * 6
    assert attempt("10.0.0.99") == 429


def test_one_address_has_a_ceiling_across_accounts(make_app, merchant, other_merchant):
    client = make_app(LOGIN_ADDRESS_LIMIT="4 per 15 minutes").test_client()
    auth = AuthActions(client)
    people = [merchant.owner, merchant.manager, merchant.staff, other_merchant.owner]
    assert [auth.login(p.email, "wrong-password").status_code for p in people] == [401] * 4
    assert auth.login(other_merchant.staff.email).status_code == 429


def test_successful_sign_ins_give_their_attempt_back(make_app, merchant):
    client = make_app(LOGIN_ACCOUNT_ADDRESS_LIMIT="2 per 5 minutes").test_client()
    auth = AuthActions(client)
    for _ in range(4):
        auth.login_as(merchant.owner)
        auth.logout()
    assert auth.login(merchant.owner.email, "wrong-password").status_code == 401


def test_parallel_wrong_pins_from_one_terminal_are_checked_at_most_the_limit(
        make_app, serve, merchant):
    app = make_app(PIN_FAILURE_LIMIT="3 per minute")
    with app.app_context():
        factories.hybrid_program(merchant.merchant)
        card = factories.card(merchant.merchant, "Pat Parallel", email="pat@example.com")
        pins = [staff_pins.create_staff_pin(merchant.merchant, merchant.stores[0], f"Staff {n}",
                                            f"{1000 + n}") for n in range(4)]
        card_id, pin_ids = card.id, [pin.id for pin in pins]
    server = serve(app)
    tablet = Browser(server.url)
    login_token = tablet.token()
    assert tablet.request("/login", {"email": merchant.staff.email, "password": factories.PASSWORD,
                                     "csrf_token": login_token})[0] == 302
    token = tablet.token("/terminal/")
    headers = {"X-CSRFToken": token, "HX-Request": "true"}
    answers = _in_parallel(lambda i: tablet.request(f"/terminal/cards/{card_id}/stamp", {
        "idempotency_key": uuid.uuid4().hex, "pin": "9999", "staff_pin_id": pin_ids[i % 4],
    }, headers))
    statuses = [status for status, _text in answers]
    assert len([s for s in statuses if s in (401, 423)]) <= 3
    assert statuses.count(429) >= PARALLEL - 3
    paused = next(text for status, text in answers if status == 429)
    assert "Too many wrong PINs on this terminal. Try again in 1 minute." in paused


@pytest.mark.parametrize(("language", "phrase"), [
    ("fr", r"Réessayez dans \d minutes?"), ("de", r"Versuchen Sie es in \d Minuten? erneut"),
    ("lb", r"Probéiert et an \d Minutt(en)? nach eng Kéier")])
def test_the_pause_is_explained_in_the_visitors_language(make_app, merchant, language, phrase):
    client = make_app(LOGIN_ACCOUNT_ADDRESS_LIMIT="1 per 5 minutes").test_client()
    choose_language(client, language)
    auth = AuthActions(client)
    auth.login(merchant.owner.email, "wrong-password")
    paused = auth.login(merchant.owner.email, "wrong-password")
    assert paused.status_code == 429
    assert re.search(phrase, paused.text)


def _pin_terminal(make_app, merchant, **settings):
    """A signed-in tablet of an app built with ``settings``, a card of a program that asks for
    a PIN, and Tom's PIN (1234): ``(terminal, card_id, tom_id)``."""
    client = make_app(**settings).test_client()
    with client.application.app_context():
        factories.hybrid_program(merchant.merchant, require_staff_pin=True)
        card = factories.card(merchant.merchant, "Sam Sheet", email="sam@example.com")
        tom = staff_pins.create_staff_pin(merchant.merchant, merchant.stores[0], "Tom", "1234")
        card_id, tom_id = card.id, tom.id
    terminal = Terminal(client, AuthActions(client))
    with client.application.app_context():
        terminal.sign_in(merchant.staff)
    return terminal, card_id, tom_id


def test_a_paused_pin_keeps_the_sheet_open(make_app, merchant):
    terminal, card_id, tom_id = _pin_terminal(make_app, merchant, PIN_FAILURE_LIMIT="1 per minute")
    assert terminal.act(card_id, "stamp", pin="9999", staff_pin_id=tom_id).status_code == 401
    paused = terminal.act(card_id, "stamp", pin="1234", staff_pin_id=tom_id)
    assert paused.status_code == 429
    assert paused.headers["HX-Retarget"] == "#sheet"
    assert 'name="pin"' in paused.text  # the PIN pad stays, with the message above it
    assert "Too many wrong PINs on this terminal. Try again in 1 minute." in paused.text


def test_sign_in_works_and_still_counts_while_redis_is_down(make_app):
    """Nothing listens on port 9: the counters fall back to this process's own."""
    app = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0")
    with app.app_context():
        owner_email = factories.merchant_with_team("Café Panne", "cafe-panne").owner.email
        db.session.commit()
    client = app.test_client()
    auth = AuthActions(client)
    for _ in range(5):
        assert auth.login(owner_email, "wrong-password").status_code == 401
    assert PAUSED.search(auth.login(owner_email, "wrong-password").get_data(as_text=True))
    other = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0").test_client()
    assert AuthActions(other).login(owner_email).status_code == 302  # another process: signs in


def test_server_errors_and_lost_connections_leave_the_terminals_pin_budget_whole(
        make_app, merchant, monkeypatch):
    """Only a PIN that was checked and was wrong spends the terminal's budget: 25 actions that
    ended in a server error or a lost database connection leave the right PIN working."""
    terminal, card_id, tom_id = _pin_terminal(make_app, merchant, PROPAGATE_EXCEPTIONS=False,
                                              PIN_FAILURE_LIMIT="20 per 10 minutes")
    faults = iter([RuntimeError("a bug")] * 13 + [OperationalError(
        "INSERT", {}, Exception("server closed the connection"), connection_invalidated=True)] * 12)

    def failing(*args, **kwargs):
        raise next(faults)

    monkeypatch.setattr(terminal_views, "add_stamp", failing)
    statuses = [terminal.act(card_id, "stamp", pin="1234", staff_pin_id=tom_id).status_code
                for _ in range(25)]
    assert statuses == [500] * 13 + [503] * 12
    monkeypatch.undo()
    stamped = terminal.act(card_id, "stamp", pin="1234", staff_pin_id=tom_id)
    assert stamped.status_code == 200 and "Stamp added." in stamped.text
