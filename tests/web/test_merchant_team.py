"""The team: invitations with a one-time set-password link, roles, removal, the last owner."""
import re

from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import AuditEntry, Membership, Role, SentEmail, User
from loyalty.services.platform import accounts
from tests import factories
from tests.conftest import AuthActions, csrf_token_from


def _post(client, url, data=None):
    token = csrf_token_from(client.get("/account"))
    return client.post(url, data={**(data or {}), "csrf_token": token})


def _emailed_link(email):
    """The set-password link of the last email sent to ``email`` (None when it has none)."""
    letter = db.session.scalar(select(SentEmail).where(SentEmail.to_address == email)
                               .order_by(SentEmail.id.desc()))
    match = re.search(r"http://localhost(/set-password/\S+)", letter.body_text)
    return match.group(1) if match else None


def _invite(client, email, role, store, name="Nina New"):
    return _post(client, "/merchant/team", {"email": email, "name": name, "role": role,
                                            "store_id": str(store.id)})


def test_inviting_a_new_person_emails_them_a_one_time_link(app, auth, client, merchant):
    auth.login_as(merchant.owner)
    invited = _invite(client, "Nina@Example.com", "store_staff", merchant.stores[0])
    assert invited.status_code == 302
    page = client.get(invited.location)
    assert "Invitation sent to nina@example.com" in page.text
    assert "set-password" not in page.text  # the link goes to the invitee only
    assert "Invited: waiting for their answer" in page.text
    link = _emailed_link("nina@example.com")
    nina = db.session.scalar(select(User).where(User.email == "nina@example.com"))
    membership = db.session.scalar(select(Membership).where(Membership.user_id == nina.id))
    assert membership.role is Role.STORE_STAFF and membership.store_id == merchant.stores[0].id
    assert membership.is_pending
    newcomer = app.test_client()
    page = newcomer.get(link)
    assert page.status_code == 200 and "nina@example.com" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    set_password = newcomer.post(link, data={"new_password": "nina-password-1",
                                             "confirm_password": "nina-password-1",
                                             "csrf_token": csrf_token_from(page)})
    assert set_password.location == "/terminal/"  # signed in, on their home
    assert newcomer.get("/account").status_code == 200
    signed_in = AuthActions(app.test_client()).login("nina@example.com", "nina-password-1")
    assert signed_in.location == "/terminal/"
    db.session.expire_all()
    assert not db.session.get(Membership, membership.id).is_pending  # choosing a password accepts
    again = app.test_client().get(link)
    assert again.status_code == 404 and "This link has expired or was already used" in again.text


def test_the_inviter_sees_the_same_answer_whether_or_not_the_account_exists(
        auth, client, merchant, other_merchant):
    auth.login_as(merchant.owner)
    answers = []
    for email in (other_merchant.owner.email, "nobody.yet@example.com"):
        invited = _invite(client, email, "store_manager", merchant.stores[1], name="Someone")
        page = client.get(invited.location).text
        answers.append((invited.status_code, page.replace(email, "EMAIL").count("EMAIL"),
                        other_merchant.owner.name in page))
    assert answers[0] == answers[1] and answers[0][2] is False
    assert _emailed_link(other_merchant.owner.email) is None  # they have a password already
    duplicate = _invite(client, other_merchant.owner.email, "store_manager", merchant.stores[1])
    assert duplicate.status_code == 422
    assert "This person already has this role here." in duplicate.text


def test_every_invitation_needs_a_name_so_the_form_tells_nothing(auth, client, merchant,
                                                                 other_merchant):
    auth.login_as(merchant.owner)
    for email in (other_merchant.owner.email, "nobody.yet@example.com"):
        refused = _invite(client, email, "store_staff", merchant.stores[0], name="")
        assert refused.status_code == 422 and "Enter the person's name." in refused.text
        assert email in refused.text  # what was typed stays in the form


def test_removing_an_invitation_stops_its_link(app, auth, client, merchant):
    auth.login_as(merchant.owner)
    _invite(client, "late@example.com", "store_staff", merchant.stores[0])
    link = _emailed_link("late@example.com")
    membership = db.session.scalar(select(Membership).join(Membership.user)
                                   .where(User.email == "late@example.com"))
    assert _post(client, f"/merchant/team/{membership.id}/remove").status_code == 302
    gone = app.test_client().get(link)
    assert gone.status_code == 404 and "This link has expired or was already used" in gone.text


def test_invitations_are_checked_next_to_the_fields(auth, client, merchant):
    auth.login_as(merchant.owner)
    refused = _post(client, "/merchant/team", {"email": "not-an-email", "role": "store_staff"})
    assert refused.status_code == 422
    assert "Enter a valid email address" in refused.text
    no_store = _post(client, "/merchant/team", {"email": "x@example.com", "name": "X",
                                                "role": "store_staff"})
    assert no_store.status_code == 422 and "Choose one of your stores for this role." in no_store.text


def test_roles_change_and_the_last_owner_stays(auth, client, merchant):
    auth.login_as(merchant.owner)
    staff_membership = merchant.staff.memberships[0]
    _post(client, f"/merchant/team/{staff_membership.id}/role",
          {"role": "store_manager", "store_id": str(merchant.stores[1].id)})
    db.session.expire_all()
    changed = db.session.get(Membership, staff_membership.id)
    assert changed.role is Role.STORE_MANAGER and changed.store_id == merchant.stores[1].id
    owner_membership = merchant.owner.memberships[0]
    demote = _post(client, f"/merchant/team/{owner_membership.id}/role",
                   {"role": "store_staff", "store_id": str(merchant.stores[0].id)})
    assert demote.status_code == 302
    assert "The shop needs at least one owner" in client.get("/merchant/team").text
    remove = _post(client, f"/merchant/team/{owner_membership.id}/remove")
    assert remove.status_code == 302
    db.session.expire_all()
    assert db.session.get(Membership, owner_membership.id).role is Role.MERCHANT_OWNER
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "team.role"))
    assert entry.changes["role"] == ["store_staff", "store_manager"]


def test_removing_someone_ends_their_sessions_when_nothing_is_left(app, auth, client, merchant):
    staff_client = app.test_client()
    AuthActions(staff_client).login_as(merchant.staff)
    auth.login_as(merchant.owner)
    _post(client, f"/merchant/team/{merchant.staff.memberships[0].id}/remove")
    assert staff_client.get("/terminal/").status_code == 302
    assert db.session.scalar(select(AuditEntry.action).where(
        AuditEntry.action == "team.remove")) == "team.remove"


def test_a_manager_invites_and_removes_staff_at_their_store_only(auth, client, merchant):
    other_staff = factories.user("Kirchberg Kai")
    accounts.add_member(other_staff, merchant.merchant, Role.STORE_STAFF, store=merchant.stores[1])
    auth.login_as(merchant.manager)
    page = client.get("/merchant/team").text
    assert merchant.staff.email in page and other_staff.email not in page
    invited = _post(client, "/merchant/team", {"email": "new@example.com", "name": "New Staff",
                                               "role": "merchant_owner",  # ignored: staff only
                                               "store_id": str(merchant.stores[0].id)})
    assert invited.status_code == 302
    membership = db.session.scalar(select(Membership).join(Membership.user).where(
        User.email == "new@example.com"))
    assert membership.role is Role.STORE_STAFF
    elsewhere = _post(client, "/merchant/team", {"email": "far@example.com", "name": "Far",
                                                 "store_id": str(merchant.stores[1].id)})
    assert elsewhere.status_code == 422
    kai = next(m for m in other_staff.memberships)
    assert _post(client, f"/merchant/team/{kai.id}/remove").status_code == 404
    assert _post(client, f"/merchant/team/{merchant.staff.memberships[0].id}/role",
                 {"role": "store_manager", "store_id": str(merchant.stores[0].id)}).status_code == 403


def test_a_bad_or_old_link_says_what_to_do(client):
    page = client.get("/set-password/not-a-real-token")
    assert page.status_code == 404
    assert "Ask the shop owner for a new one." in page.text


def _browser_defaults(form_html):
    """What a browser sends for each select of ``form_html`` left as it is: the option marked
    selected, else the first one."""
    defaults = {}
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form_html,
                                    re.S):
        values = [(re.search(r'value="([^"]*)"', tag).group(1), " selected" in tag)
                  for tag in re.findall(r"<option[^>]*>", options)]
        defaults[name] = next((value for value, selected in values if selected), values[0][0])
    return defaults


def test_the_invite_forms_defaults_are_accepted_as_they_are(auth, client, merchant):
    auth.login_as(merchant.owner)
    page = client.get("/merchant/team").text
    form = page[page.index('class="card settings-form invite-form"'):]
    defaults = _browser_defaults(form[:form.index("</form>")])
    assert defaults == {"role": "store_staff", "store_id": str(merchant.stores[0].id)}
    assert "a staff PIN only confirms actions at the counter" in page
    invited = _post(client, "/merchant/team", {**defaults, "email": "first@example.com",
                                               "name": "First Hire"})
    assert invited.status_code == 302
    membership = db.session.scalar(select(Membership).join(Membership.user)
                                   .where(User.email == "first@example.com"))
    assert membership.role is Role.STORE_STAFF and membership.store_id == merchant.stores[0].id


def test_an_owner_invited_with_a_store_gets_every_store(auth, client, merchant):
    auth.login_as(merchant.owner)
    invited = _invite(client, "co-owner@example.com", "merchant_owner", merchant.stores[1])
    assert invited.status_code == 302
    membership = db.session.scalar(select(Membership).join(Membership.user)
                                   .where(User.email == "co-owner@example.com"))
    assert membership.role is Role.MERCHANT_OWNER and membership.store_id is None


def test_remove_asks_first_and_says_who_loses_access(auth, client, merchant):
    auth.login_as(merchant.owner)
    staff_membership = merchant.staff.memberships[0]
    team_page = client.get("/merchant/team").text
    link = f"/merchant/team/{staff_membership.id}/remove"
    assert f'href="{link}"' in team_page and f'action="{link}"' not in team_page
    asked = client.get(link)
    assert asked.status_code == 200
    assert (f"{merchant.staff.name} ({merchant.staff.email}) will lose access as Staff at "
            f"{staff_membership.store.name}") in asked.text
    db.session.expire_all()
    assert db.session.get(Membership, staff_membership.id).deleted_at is None  # asking removes nothing
    removed = client.post(link, data={"csrf_token": csrf_token_from(asked)})
    assert removed.status_code == 302
    assert f"{merchant.staff.name} is no longer in the team here." in client.get(removed.location).text
    db.session.expire_all()
    assert db.session.get(Membership, staff_membership.id).deleted_at is not None
