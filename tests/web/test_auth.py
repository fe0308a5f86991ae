"""Signing in and out through the real pages."""
import pytest
from sqlalchemy import func, select

from loyalty.extensions import db
from loyalty.models import Role, UserSession
from loyalty.services.platform import accounts
from tests import factories
from tests.conftest import PAUSED, csrf_token_from


def test_sign_in_page_renders_with_a_csrf_protected_form(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert "Sign in" in page.text
    assert csrf_token_from(page)


@pytest.mark.parametrize(
    ("who", "landing"),
    [("owner", "/merchant/"), ("manager", "/terminal/"), ("staff", "/terminal/")],
)
def test_each_role_lands_on_its_own_home(auth, client, merchant, who, landing):
    response = auth.login_as(getattr(merchant, who))
    assert response.location == landing
    assert client.get(landing).status_code == 200


def test_admin_lands_on_the_back_office(auth, client, app):
    admin = factories.user("Ada Admin", admin=True)
    assert auth.login_as(admin).location == "/admin/"
    assert "Back office" in client.get("/admin/").text


def test_wrong_password_says_so_and_keeps_the_email(auth, merchant):
    response = auth.login(merchant.owner.email, "not-the-password")
    assert response.status_code == 401
    assert "Wrong email or password. Check both and try again." in response.text
    assert merchant.owner.email in response.text


def test_unknown_email_gets_the_same_message_as_a_wrong_password(auth):
    response = auth.login("nobody@example.com", "whatever-password")
    assert response.status_code == 401
    assert "Wrong email or password" in response.text


def test_a_sign_in_form_posted_without_its_token_shows_the_form_again(client, merchant):
    response = client.post("/login", data={"email": merchant.owner.email, "password": "x"})
    assert response.status_code == 400
    assert "This sign-in page was open too long. Sign in again." in response.text
    assert merchant.owner.email in response.text  # what was typed is kept
    assert csrf_token_from(response)  # and the form works again


def test_too_many_failed_attempts_are_paused_with_a_clear_message(auth, merchant):
    for _ in range(5):
        assert auth.login(merchant.owner.email, "wrong-password").status_code == 401
    blocked = auth.login(merchant.owner.email, "wrong-password")
    assert blocked.status_code == 429
    assert PAUSED.search(blocked.text)
    # Even the right password waits until the pause is over.
    assert auth.login(merchant.owner.email).status_code == 429


def test_successful_sign_ins_do_not_count_toward_the_limit(auth, merchant):
    for _ in range(7):
        auth.login_as(merchant.owner)
        auth.logout()


def test_sign_in_starts_a_fresh_session(auth, client, merchant):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    auth.login_as(merchant.owner)
    with client.session_transaction() as session:
        assert "planted" not in session
        token = session["_user_id"]
    assert token != str(merchant.owner.id) and len(token) >= 40  # a random session token
    assert db.session.scalar(select(func.count(UserSession.id)).where(
        UserSession.user_id == merchant.owner.id, UserSession.ended_at.is_(None))) == 1


def test_sign_out_needs_a_post_and_ends_the_session(auth, client, merchant):
    auth.login_as(merchant.owner)
    assert client.get("/logout").status_code == 405
    response = auth.logout()
    assert response.location == "/login"
    assert client.get("/merchant/").status_code == 302


def test_next_parameter_never_leaves_the_site(auth, client, merchant):
    token = csrf_token_from(client.get("/login"))
    response = client.post(
        "/login?next=https://evil.example/phish",
        data={"email": merchant.owner.email, "password": "correct-horse-battery", "csrf_token": token},
    )
    assert response.location == "/merchant/"


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in ("/terminal/", "/merchant/", "/admin/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.location.startswith("/login")


@pytest.mark.parametrize(("who", "url"), [
    ("staff", "/merchant/"), ("staff", "/admin/"), ("owner", "/admin/"),
    ("manager", "/merchant/program"),
])
def test_roles_cannot_open_other_audiences_pages(auth, client, merchant, who, url):
    auth.login_as(getattr(merchant, who))
    response = client.get(url)
    assert response.status_code == 403
    assert "Your account cannot open this page" in response.text


def test_deleted_user_is_signed_out_and_cannot_sign_in(auth, client, merchant):
    auth.login_as(merchant.owner)
    accounts.delete_record(merchant.owner)
    assert client.get("/merchant/").status_code == 302
    assert auth.login(merchant.owner.email).status_code == 401


def test_removing_the_last_membership_ends_the_session(auth, client, merchant):
    auth.login_as(merchant.staff)
    assert client.get("/terminal/").status_code == 200
    accounts.delete_record(merchant.staff.memberships[0])
    response = client.get("/terminal/")
    assert response.status_code == 302 and response.location.startswith("/login")
    assert "Your session has ended. Sign in again." in client.get(response.location).text


def test_a_removed_membership_loses_its_store_on_the_next_request(auth, client, merchant):
    """Someone who keeps another membership stays signed in, without the removed one."""
    accounts.add_member(merchant.staff, merchant.merchant, Role.STORE_STAFF,
                        store=merchant.stores[1])
    auth.login_as(merchant.staff)
    gare = next(m for m in merchant.staff.memberships if m.store_id == merchant.stores[0].id)
    accounts.delete_record(gare)
    page = client.get("/terminal/", follow_redirects=True)
    assert page.status_code == 200
    assert merchant.stores[1].name in page.text and merchant.stores[0].name not in page.text


def test_staff_of_a_deleted_merchant_lose_access_but_keep_other_merchants(
        auth, client, merchant, other_merchant):
    accounts.add_member(merchant.staff, other_merchant.merchant, Role.STORE_STAFF,
                        store=other_merchant.stores[0])
    auth.login_as(merchant.staff)
    accounts.delete_record(merchant.merchant)
    page = client.get("/terminal/", follow_redirects=True)
    assert page.status_code == 200
    assert other_merchant.stores[0].name in page.text
    assert merchant.stores[0].name not in page.text
