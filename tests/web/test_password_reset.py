"""Password recovery: "Forgot your password?" on the sign-in page, a one-time reset link by
email valid for an hour, the same answer for any address, limits per address and per
recipient, the admin's and the owner's "Send a password reset", signed in after choosing."""
import re

from sqlalchemy import func, select

from loyalty.extensions import db
from loyalty.models import AuditEntry, Membership, OutboxMessage, SentEmail
from loyalty.services.audit import Actor
from loyalty.services.platform import records
from tests import factories
from tests.conftest import AuthActions, csrf_token_from

NEW_PASSWORD = "a-new-password-1"


def _emails_to(address):
    return db.session.scalars(select(SentEmail).where(SentEmail.to_address == address)
                              .order_by(SentEmail.id)).all()


def _reset_link(address):
    """The set-password link of the last email sent to ``address``."""
    letter = _emails_to(address)[-1]
    return re.search(r"http://localhost(/set-password/\S+)", letter.body_text).group(1)


def _ask(client, email):
    token = csrf_token_from(client.get("/forgot-password"))
    return client.post("/forgot-password", data={"email": email, "csrf_token": token})


def _choose(client, link, password=NEW_PASSWORD):
    page = client.get(link)
    if page.status_code != 200:
        return page
    return client.post(link, data={"new_password": password, "confirm_password": password,
                                   "csrf_token": csrf_token_from(page)})


def _outbox_rows():
    return db.session.scalar(select(func.count(OutboxMessage.id)))


def test_the_sign_in_page_offers_a_reset_and_answers_alike_for_any_address(client, merchant):
    assert 'href="/forgot-password"' in client.get("/login").text
    before = _outbox_rows()
    known = _ask(client, merchant.owner.email.upper())
    after_known = _outbox_rows()
    unknown = _ask(client, "nobody-here@example.com")
    assert known.status_code == unknown.status_code == 200
    owner_email = merchant.owner.email
    assert (known.text.replace(owner_email, "ADDRESS")
            == unknown.text.replace("nobody-here@example.com", "ADDRESS")
            .replace(csrf_token_from(unknown), csrf_token_from(known)))
    assert "a link to choose a new password is on its way" in known.text
    assert after_known - before == _outbox_rows() - after_known == 1  # the same work
    assert len(_emails_to(owner_email)) == 1 and not _emails_to("nobody-here@example.com")


def test_a_reset_link_works_once_signs_in_and_ends_other_sessions(app, client, merchant,
                                                                  frozen_clock):
    owner = merchant.owner
    elsewhere = app.test_client()
    AuthActions(elsewhere).login_as(owner)
    _ask(client, owner.email)
    link = _reset_link(owner.email)
    assert "within 60 minutes" in _emails_to(owner.email)[-1].body_text
    frozen_clock.advance(minutes=59)
    chosen = _choose(client, link)
    assert chosen.status_code == 302 and chosen.location == "/merchant/"
    assert client.get("/account").status_code == 200  # signed in here
    assert elsewhere.get("/account").status_code == 302  # signed out on the other device
    assert _choose(app.test_client(), link).status_code == 404  # once only
    assert AuthActions(app.test_client()).login(owner.email).status_code == 401
    assert AuthActions(app.test_client()).login(owner.email, NEW_PASSWORD).status_code == 302
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "account.password_reset"))
    assert entry.actor_id == owner.id and entry.target_id == owner.id


def test_a_reset_link_expires_after_its_hour_and_a_newer_one_retires_older_ones(
        app, client, merchant, frozen_clock):
    staff = merchant.staff
    _ask(client, staff.email)
    old = _reset_link(staff.email)
    frozen_clock.advance(minutes=61)
    page = app.test_client().get(old)
    assert page.status_code == 404 and "This link has expired or was already used" in page.text
    _ask(client, staff.email)
    first = _reset_link(staff.email)
    _ask(client, staff.email)
    second = _reset_link(staff.email)
    assert _choose(app.test_client(), second).status_code == 302
    assert _choose(app.test_client(), first).status_code == 404  # used one retires the others


def test_requests_are_limited_per_typed_address(client, merchant):
    for _ in range(3):
        assert _ask(client, "someone@example.com").status_code == 200
    refused = _ask(client, "Someone@Example.com")
    assert refused.status_code == 429 and "Too many reset requests" in refused.text
    assert _ask(client, merchant.owner.email).status_code == 200  # another address still may


def test_one_person_gets_at_most_three_reset_emails_an_hour_whoever_asks(app, client, auth,
                                                                        merchant):
    staff = merchant.staff
    _ask(client, staff.email)
    _ask(app.test_client(), staff.email)
    auth.login_as(merchant.owner)
    membership = db.session.scalar(select(Membership).where(Membership.user_id == staff.id))
    for _ in range(2):
        token = csrf_token_from(client.get("/merchant/team"))
        client.post(f"/merchant/team/{membership.id}/password-reset", data={"csrf_token": token})
    assert len(_emails_to(staff.email)) == 3


def test_an_admin_sends_a_reset_to_a_user(client, auth, merchant):
    admin = factories.user("Ada Admin", admin=True)
    auth.login_as(admin)
    staff = merchant.staff
    page = client.get(f"/admin/users/{staff.id}")
    assert "Send a password reset" in page.text
    assert client.post(f"/admin/users/{staff.id}/password-reset").status_code == 400  # no CSRF
    assert not _emails_to(staff.email)
    sent = client.post(f"/admin/users/{staff.id}/password-reset",
                       data={"csrf_token": csrf_token_from(page)})
    assert sent.status_code == 302
    assert "A password reset link is on its way" in client.get(sent.location).text
    assert "You have been sent a link" in _emails_to(staff.email)[-1].body_text
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "account.reset_sent"))
    assert entry.actor_id == admin.id and entry.target_id == staff.id
    assert _choose(client.application.test_client(), _reset_link(staff.email)).status_code == 302


def test_an_owner_sends_a_reset_to_their_members_only(app, client, auth, merchant,
                                                      other_merchant):
    auth.login_as(merchant.owner)
    mine = db.session.scalar(select(Membership).where(Membership.user_id == merchant.manager.id))
    theirs = db.session.scalar(select(Membership).where(
        Membership.user_id == other_merchant.staff.id))
    page = client.get("/merchant/team")
    assert "Send a password reset" in page.text
    token = csrf_token_from(page)
    sent = client.post(f"/merchant/team/{mine.id}/password-reset", data={"csrf_token": token})
    assert "A password reset link is on its way" in client.get(sent.location).text
    assert len(_emails_to(merchant.manager.email)) == 1
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "account.reset_sent"))
    assert entry.merchant_id == merchant.id and entry.target_id == merchant.manager.id
    refused = client.post(f"/merchant/team/{theirs.id}/password-reset", data={"csrf_token": token})
    assert refused.status_code == 404 and not _emails_to(other_merchant.staff.email)


def test_a_manager_sends_resets_to_their_staff_but_not_to_the_owner(client, auth, merchant):
    auth.login_as(merchant.manager)
    staff = db.session.scalar(select(Membership).where(Membership.user_id == merchant.staff.id))
    owner = db.session.scalar(select(Membership).where(Membership.user_id == merchant.owner.id))
    token = csrf_token_from(client.get("/merchant/team"))
    client.post(f"/merchant/team/{staff.id}/password-reset", data={"csrf_token": token})
    assert len(_emails_to(merchant.staff.email)) == 1
    client.post(f"/merchant/team/{owner.id}/password-reset", data={"csrf_token": token})
    assert not _emails_to(merchant.owner.email)


def test_the_reset_email_is_in_the_persons_language(client, merchant):
    staff = merchant.staff
    staff.preferred_locale = "fr"
    db.session.commit()
    _ask(client, staff.email)
    letter = _emails_to(staff.email)[-1]
    assert letter.locale == "fr" and "Choisissez" in letter.subject
    assert "/set-password/" in letter.body_html


def test_a_deleted_accounts_reset_link_no_longer_works(app, client, merchant):
    staff = merchant.staff
    _ask(client, staff.email)
    link = _reset_link(staff.email)
    admin = factories.user("Ada Admin", admin=True)
    records.delete(staff, actor=Actor(user_id=admin.id))
    page = app.test_client().get(link)
    assert page.status_code == 404 and "This link has expired or was already used" in page.text
    assert _choose(app.test_client(), link).status_code == 404
