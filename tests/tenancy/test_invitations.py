"""Invitations across merchants and the shop switcher: an invitation changes nothing for its
person until they accept it; then they act for the merchant they choose, and every page,
export and terminal shows that merchant's data only."""
import re

from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import Membership, SentEmail
from loyalty.services.engine import staff_pins
from loyalty.services.platform import accounts
from tests import factories
from tests.conftest import AuthActions, csrf_token_from


def _post(client, url, data=None):
    token = csrf_token_from(client.get("/account"))
    return client.post(url, data={**(data or {}), "csrf_token": token})


def _invite_their_owner(client, auth, merchant, other_merchant):
    """``merchant``'s manager invites ``other_merchant``'s owner as staff at their store."""
    auth.login_as(merchant.manager)
    invited = _post(client, "/merchant/team", {
        "email": other_merchant.owner.email, "name": "Someone", "role": "store_staff",
        "store_id": str(merchant.stores[0].id)})
    assert invited.status_code == 302
    return db.session.scalar(select(Membership).where(
        Membership.user_id == other_merchant.owner.id, Membership.merchant_id == merchant.id))


def _cards_for(merchant):
    factories.stamp_program(merchant.merchant)
    return (factories.card(merchant.merchant, f"{merchant.merchant.name} Regular",
                           email=f"regular@{merchant.merchant.slug}.example"),)


def test_an_invitation_changes_nothing_until_it_is_accepted(app, auth, client, merchant,
                                                           other_merchant):
    victim = app.test_client()
    AuthActions(victim).login_as(other_merchant.owner)  # their session is open meanwhile
    membership = _invite_their_owner(client, auth, merchant, other_merchant)
    assert membership.is_pending
    assert victim.get("/merchant/").status_code == 200  # their own back office, unchanged
    assert other_merchant.merchant.name in victim.get("/merchant/").text
    assert 'data-testid="merchant-switch"' not in victim.get("/merchant/").text
    fresh = app.test_client()
    signed_in = AuthActions(fresh).login(other_merchant.owner.email)
    assert signed_in.location == "/merchant/"  # their own shop, not the inviter's terminal
    assert "1 invitation to join a team is waiting" in fresh.get("/merchant/").text
    invitations = fresh.get("/invitations").text
    assert merchant.merchant.name in invitations and "Accept" in invitations


def test_after_accepting_they_switch_and_see_only_the_chosen_merchants_data(
        app, auth, client, merchant, other_merchant):
    [ours], [theirs] = _cards_for(merchant), _cards_for(other_merchant)
    membership = _invite_their_owner(client, auth, merchant, other_merchant)
    person = app.test_client()
    AuthActions(person).login_as(other_merchant.owner)
    accepted = _post(person, f"/invitations/{membership.id}", {"accept": "Accept"})
    assert accepted.location == "/terminal/"  # now acting for the shop they joined, as staff
    switcher = person.get("/account").text
    assert 'data-testid="merchant-switch"' in switcher
    assert merchant.merchant.name in switcher and other_merchant.merchant.name in switcher

    # Acting for the shop that invited them: its terminal, its cards, nothing of their own.
    assert person.get("/merchant/").status_code == 403  # staff there
    token = csrf_token_from(person.get("/terminal/store"))
    person.post("/terminal/store", data={"store_id": merchant.stores[0].id, "csrf_token": token})
    found = person.get("/terminal/find", query_string={"q": ours.card_number})
    assert found.status_code == 200 and "Regular" in found.text
    missing = person.get("/terminal/find", query_string={"q": theirs.card_number})
    assert "No card found" in missing.text

    # Back to their own shop: its back office, its cards and exports only.
    back = _post(person, "/account/merchant", {"merchant_id": str(other_merchant.id)})
    assert back.location == "/merchant/"
    cards = person.get("/merchant/cards").text
    assert theirs.card_number in cards and ours.card_number not in cards
    export = person.get("/merchant/exports/cards.csv").text
    assert theirs.card_number in export and ours.card_number not in export
    assert person.get(f"/merchant/cards/{ours.id}").status_code == 404

    # The choice lasts for the session.
    assert person.get("/").location == "/merchant/"


def test_the_switcher_refuses_a_merchant_the_person_is_not_on_the_team_of(
        app, auth, client, merchant, other_merchant):
    pending = _invite_their_owner(client, auth, other_merchant, merchant)  # not yet accepted
    person = app.test_client()
    AuthActions(person).login_as(merchant.owner)
    for merchant_id in (other_merchant.id, pending.merchant_id, 999999):
        refused = _post(person, "/account/merchant", {"merchant_id": str(merchant_id)})
        assert refused.status_code == 404
    assert _post(person, "/account/merchant", {"merchant_id": "x"}).status_code == 400  # altered
    assert person.get("/").location == "/merchant/"
    assert merchant.merchant.name in person.get("/merchant/").text


def test_declining_removes_the_invitation_and_someone_else_cannot_answer_it(
        app, auth, client, merchant, other_merchant):
    membership = _invite_their_owner(client, auth, merchant, other_merchant)
    stranger = app.test_client()
    AuthActions(stranger).login_as(merchant.staff)
    assert _post(stranger, f"/invitations/{membership.id}", {"accept": "Accept"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Membership, membership.id).is_pending  # not theirs to answer
    person = app.test_client()
    AuthActions(person).login_as(other_merchant.owner)
    assert _post(person, f"/invitations/{membership.id}").status_code == 400  # no answer given
    _post(person, f"/invitations/{membership.id}", {"decline": "Decline"})
    db.session.expire_all()
    assert db.session.get(Membership, membership.id).deleted_at is not None
    owner = app.test_client()
    AuthActions(owner).login_as(merchant.owner)
    assert other_merchant.owner.email not in owner.get("/merchant/team").text
    assert "No invitation is waiting" in person.get("/invitations").text


def test_an_invited_owner_does_not_count_until_accepted(auth, client, merchant,
                                                        other_merchant):
    """The last owner cannot leave on the strength of an invitation nobody answered."""
    auth.login_as(merchant.owner)
    _post(client, "/merchant/team", {"email": other_merchant.owner.email, "name": "X",
                                     "role": "merchant_owner", "store_id": ""})
    mine = merchant.owner.memberships[0]
    refused = _post(client, f"/merchant/team/{mine.id}/remove")
    assert refused.status_code == 302
    assert "The shop needs at least one owner" in client.get("/merchant/team").text


def test_someone_who_never_chose_a_password_gets_a_link_with_every_invitation(
        app, auth, client, merchant, other_merchant):
    """The first shop's invitation is removed before its link was used: the second shop's
    invitation brings a link of its own, which works and accepts that one."""
    auth.login_as(merchant.owner)
    _post(client, "/merchant/team", {"email": "nina@example.com", "name": "Nina",
                                     "role": "store_staff", "store_id": str(merchant.stores[0].id)})
    first = db.session.scalar(select(Membership).where(Membership.merchant_id == merchant.id)
                              .order_by(Membership.id.desc()))
    _post(client, f"/merchant/team/{first.id}/remove")
    inviter = app.test_client()
    AuthActions(inviter).login_as(other_merchant.owner)
    _post(inviter, "/merchant/team", {"email": "nina@example.com", "name": "Nina",
                                      "role": "store_staff",
                                      "store_id": str(other_merchant.stores[0].id)})
    letter = db.session.scalar(select(SentEmail).where(SentEmail.to_address == "nina@example.com")
                               .order_by(SentEmail.id.desc()))
    link = re.search(r"http://localhost(/set-password/\S+)", letter.body_text).group(1)
    nina = app.test_client()
    page = nina.get(link)
    assert page.status_code == 200
    chosen = nina.post(link, data={"new_password": "nina-password-1",
                                   "confirm_password": "nina-password-1",
                                   "csrf_token": csrf_token_from(page)})
    assert chosen.location == "/terminal/"  # signed in on her home
    signed_in = AuthActions(app.test_client()).login("nina@example.com", "nina-password-1")
    assert signed_in.location == "/terminal/"
    assert other_merchant.merchant.name in nina.get("/terminal/", follow_redirects=True).text


def test_an_unanswered_invitation_gives_no_rights_and_keeps_nobody_signed_in(
        app, auth, client, merchant, other_merchant):
    membership = _invite_their_owner(client, auth, merchant, other_merchant)
    assert not staff_pins.can_manage_store(other_merchant.owner, merchant.id, merchant.stores[0].id)
    person = app.test_client()
    AuthActions(person).login_as(other_merchant.owner)
    owner_role = other_merchant.owner.memberships[0]
    accounts.delete_record(owner_role)  # their only team in force
    assert person.get("/account").status_code == 302  # signed out, pending invitation or not
    assert membership.is_pending


def test_a_huge_invitation_id_is_not_found(auth, client, merchant):
    auth.login_as(merchant.owner)
    assert _post(client, "/invitations/100000000000000000000", {"accept": "Accept"}).status_code == 404


def test_every_back_office_page_and_export_follows_the_chosen_merchant(
        app, auth, client, merchant, other_merchant):
    """A person on two teams, acting for one: no page or export of the back office shows a
    card, customer or store of the other (the top bar's switcher names both shops)."""
    [ours], [theirs] = _cards_for(merchant), _cards_for(other_merchant)
    auth.login_as(merchant.owner)
    _post(client, "/merchant/team", {"email": other_merchant.owner.email, "name": "X",
                                     "role": "merchant_owner", "store_id": ""})
    invitation = db.session.scalar(select(Membership).where(
        Membership.user_id == other_merchant.owner.id, Membership.merchant_id == merchant.id))
    person = app.test_client()
    AuthActions(person).login_as(other_merchant.owner)
    _post(person, f"/invitations/{invitation.id}", {"accept": "Accept"})
    _post(person, "/account/merchant", {"merchant_id": str(merchant.id)})  # not their first
    others = (theirs.card_number, "Other Bakery Regular", other_merchant.stores[0].name)
    pages = sorted(rule.rule for rule in app.url_map.iter_rules()
                   if rule.rule.startswith("/merchant") and not rule.arguments
                   and "GET" in rule.methods)
    assert len(pages) >= 15
    shown = 0
    for url in pages:
        answer = person.get(url)
        if answer.status_code != 200:
            continue
        shown += 1
        text = answer.get_data(as_text=True)
        assert not [leak for leak in others if leak in text], url
    assert shown >= 15
    assert ours.card_number in person.get("/merchant/cards").text
    transactions = person.get("/merchant/exports/transactions.csv").get_data(as_text=True)
    assert ours.card_number in transactions and theirs.card_number not in transactions
