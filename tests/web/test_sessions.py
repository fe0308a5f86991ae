"""Sessions end on the server: a copied cookie is worth nothing after sign-out, a password
change ends the other devices, an idle session expires, and an expired session at the terminal
sends the whole page to the sign-in page and back."""
from flask.testing import FlaskClient
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import UserSession
from loyalty.services.platform import accounts, sessions
from tests import factories
from tests.conftest import (
    PAUSED,
    AuthActions,
    RequestScopedClient,
    choose_language,
    csrf_token_from,
    run_cli,
)

HTMX_FROM_TERMINAL = {"HX-Request": "true", "HX-Current-URL": "http://localhost/terminal/"}


def _second_device(app):
    client = app.test_client()
    assert isinstance(client, RequestScopedClient)
    return client, AuthActions(client)


def _copy_cookies(source: FlaskClient, target: FlaskClient):
    for cookie in source._cookies.values():
        target.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app, auth, client, merchant):
    auth.login_as(merchant.owner)
    thief, _ = _second_device(app)
    _copy_cookies(client, thief)
    assert thief.get("/merchant/").status_code == 200  # the copy works while the session lives
    auth.logout()
    replay = thief.get("/merchant/")
    assert replay.status_code == 302 and replay.location.startswith("/login")
    token = csrf_token_from(thief.get("/login"))
    assert thief.post("/logout", data={"csrf_token": token}).location == "/login"


def test_signing_out_ends_only_that_session(app, auth, client, merchant):
    auth.login_as(merchant.owner)
    other, other_auth = _second_device(app)
    other_auth.login_as(merchant.owner)
    auth.logout()
    assert client.get("/merchant/").status_code == 302
    assert other.get("/merchant/").status_code == 200


def test_sign_out_everywhere_ends_every_session(app, auth, client, merchant):
    auth.login_as(merchant.owner)
    other, other_auth = _second_device(app)
    other_auth.login_as(merchant.owner)
    page = client.get("/account")
    assert "Sign out of all devices" in page.text
    done = client.post("/account/sign-out-everywhere", data={"csrf_token": csrf_token_from(page)})
    assert done.location == "/login"
    assert "You are signed out on all devices." in client.get("/login").text
    assert client.get("/merchant/").status_code == 302
    assert other.get("/merchant/").status_code == 302


def _change_password(client, current, new, confirm=None):
    token = csrf_token_from(client.get("/account"))
    return client.post("/account/password", data={
        "current_password": current, "new_password": new,
        "confirm_password": new if confirm is None else confirm, "csrf_token": token})


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, auth, client, merchant):
    auth.login_as(merchant.staff)
    other, other_auth = _second_device(app)
    other_auth.login_as(merchant.staff)
    copy, _ = _second_device(app)
    _copy_cookies(client, copy)  # a copy of this very cookie
    changed = _change_password(client, factories.PASSWORD, "a-brand-new-password")
    assert changed.status_code == 302
    assert "Your password is changed. Your other devices are signed out." in client.get("/account").text
    assert client.get("/terminal/").status_code == 200
    assert other.get("/terminal/").status_code == 302
    assert copy.get("/terminal/").status_code == 302  # this device got a fresh session
    auth.logout()
    assert auth.login(merchant.staff.email).status_code == 401
    assert auth.login(merchant.staff.email, "a-brand-new-password").status_code == 302


def test_a_password_change_is_refused_next_to_the_field(auth, client, merchant):
    auth.login_as(merchant.staff)
    wrong = _change_password(client, "not-my-password", "a-brand-new-password")
    assert wrong.status_code == 422
    assert "Your current password is not right. Type it again." in wrong.text
    message = "Choose a password of 8 to 72 characters (accented letters count twice)."
    short = _change_password(client, factories.PASSWORD, "short")
    assert short.status_code == 422 and message in short.text
    too_long = _change_password(client, factories.PASSWORD, "é" * 40)  # 80 bytes for bcrypt
    assert too_long.status_code == 422 and message in too_long.text
    differ = _change_password(client, factories.PASSWORD, "a-brand-new-password", "another-one")
    assert differ.status_code == 422
    assert "The two new passwords differ. Type them again." in differ.text
    auth.logout()
    assert auth.login(merchant.staff.email).status_code == 302  # the old password still works


def test_the_account_page_lists_where_you_are_signed_in(app, auth, client, merchant):
    auth.login_as(merchant.owner)
    other, other_auth = _second_device(app)
    assert other_auth.login(merchant.owner.email, headers={"User-Agent": "Counter tablet"}).status_code == 302
    page = client.get("/account")
    assert "Counter tablet" in page.text and "this device" in page.text


def test_an_idle_session_expires(app, auth, client, merchant, frozen_clock):
    auth.login_as(merchant.staff)
    frozen_clock.advance(hours=11)
    assert client.get("/terminal/").status_code == 200  # in use: kept alive
    frozen_clock.advance(hours=11, minutes=59)
    assert client.get("/terminal/").status_code == 200
    frozen_clock.advance(hours=12, minutes=1)
    expired = client.get("/terminal/")
    assert expired.status_code == 302 and expired.location == "/login?next=/terminal/"
    assert "Your session has ended. Sign in again." in client.get(expired.location).text


def test_session_rows_keep_no_usable_token(auth, client, merchant):
    auth.login_as(merchant.owner)
    with client.session_transaction() as cookie_session:
        token = cookie_session["_user_id"]
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == merchant.owner.id))
    assert token not in row.token_hash and len(row.token_hash) == 64


def test_an_htmx_find_after_the_session_ended_redirects_the_whole_page(auth, client, merchant):
    auth.login_as(merchant.staff)
    sessions.end_sessions_of(merchant.staff.id, sessions.SIGNED_OUT)
    find = client.get("/terminal/find", query_string={"q": "1234"}, headers=HTMX_FROM_TERMINAL)
    assert find.status_code == 401
    assert find.headers["HX-Redirect"] == "/login?next=/terminal/"
    assert "<html" not in find.text  # no sign-in page inside the card panel
    login = client.get(find.headers["HX-Redirect"])
    assert "Your session has ended. Sign in again." in login.text
    back = client.post(find.headers["HX-Redirect"], data={
        "email": merchant.staff.email, "password": factories.PASSWORD,
        "csrf_token": csrf_token_from(login)})
    assert back.location == "/terminal/"


def test_the_terminal_workers_own_fetch_leaves_the_ended_session_message_for_the_person(
        auth, client, merchant):
    """The service worker keeps the terminal's page in the background; when the session has
    ended, its fetch gets a bare 401 and the person's next request still says why."""
    auth.login_as(merchant.staff)
    sessions.end_sessions_of(merchant.staff.id, sessions.SIGNED_OUT)
    kept = client.get("/terminal/", headers={"X-Terminal-Worker": "keep"})
    assert kept.status_code == 401 and "Location" not in kept.headers
    find = client.get("/terminal/find", query_string={"q": "1234"}, headers=HTMX_FROM_TERMINAL)
    assert find.status_code == 401
    assert "Your session has ended. Sign in again." in client.get(find.headers["HX-Redirect"]).text


def test_an_action_posted_after_the_cookie_is_gone_asks_to_sign_in_again(app, client, merchant):
    """The cookie is gone, so is the CSRF token: the answer is a redirect, in French here."""
    choose_language(client, "fr")
    stamp = client.post("/terminal/cards/1/stamp", data={"idempotency_key": "abc"},
                        headers={**HTMX_FROM_TERMINAL, "X-CSRFToken": "stale-token"})
    assert stamp.status_code == 401
    assert stamp.headers["HX-Redirect"] == "/login?next=/terminal/"
    assert "Votre session a expiré. Reconnectez-vous." in client.get("/login").text


def test_a_plain_visit_without_a_session_is_asked_to_sign_in_in_the_visitors_language(client):
    choose_language(client, "de")
    response = client.get("/merchant/")
    assert response.location == "/login?next=/merchant/"
    page = client.get(response.location).text
    assert "Please log in to access this page." not in page
    assert "Melden Sie sich an, um diese Seite zu öffnen." in page


def test_a_removed_person_is_signed_out_everywhere(app, auth, client, merchant):
    auth.login_as(merchant.staff)
    accounts.delete_record(merchant.staff, by=merchant.owner)
    live = db.session.scalars(select(UserSession).where(
        UserSession.user_id == merchant.staff.id, UserSession.ended_at.is_(None))).all()
    assert live == []
    assert client.get("/terminal/").status_code == 302


def test_sessions_expire_after_the_configured_idle_time(make_app, merchant, frozen_clock):
    client = make_app(SESSION_IDLE_MINUTES=30).test_client()
    AuthActions(client).login_as(merchant.owner)
    frozen_clock.advance(minutes=29)
    assert client.get("/merchant/").status_code == 200
    frozen_clock.advance(minutes=31)
    assert client.get("/merchant/").status_code == 302


def test_guessing_the_current_password_on_the_account_page_is_limited(auth, client, merchant):
    auth.login_as(merchant.owner)
    statuses = [_change_password(client, f"guess-{n}", "a-brand-new-password").status_code
                for n in range(6)]
    assert statuses == [422] * 5 + [429]
    assert PAUSED.search(_change_password(client, factories.PASSWORD, "a-brand-new-password").text)


def test_old_sessions_are_pruned_and_live_ones_kept(app, auth, client, merchant, frozen_clock):
    auth.login_as(merchant.owner)
    auth.logout()
    auth.login_as(merchant.owner)
    frozen_clock.advance(days=31)
    assert client.get("/merchant/").status_code == 302  # idle far too long: over anyway
    auth.login_as(merchant.owner)
    result = run_cli(app, "loyalty", "prune-sessions")
    assert "Deleted 2 old sessions." in result.output
    assert client.get("/merchant/").status_code == 200
