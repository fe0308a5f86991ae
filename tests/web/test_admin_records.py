"""The back office's merchants, stores and users: lists with their deleted ones, deletion
with its cascade, restore (exactly what the deletion took), clashes, and who may see it."""
import csv
import io

import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import (
    AuditEntry,
    LoyaltyCard,
    LoyaltyProgram,
    Membership,
    Merchant,
    OutboxMessage,
    Store,
    User,
    soft_delete,
)
from loyalty.services.audit import Actor
from loyalty.services.errors import Conflict
from loyalty.services.platform import accounts, records
from tests import factories
from tests.conftest import csrf_token_from


@pytest.fixture
def admin(app):
    user = factories.user("Ada Admin", admin=True)
    db.session.commit()
    return user


@pytest.fixture
def signed_in_admin(client, auth, admin):
    auth.login_as(admin)
    return admin


def _post(client, url, data=None, page=None):
    token = csrf_token_from(client.get(page or url))
    return client.post(url, data={"csrf_token": token, **(data or {})})


def _rules(app):
    return sorted((rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")),
                  key=lambda rule: rule.rule)


def _url(app, rule):
    values = {name: (sorted(rule._converters[name].items)[0]
                     if hasattr(rule._converters[name], "items") else 1)
              for name in rule.arguments}
    return app.url_map.bind("localhost").build(rule.endpoint, values)


@pytest.mark.parametrize("role", ["owner", "manager", "staff", "anonymous"])
def test_every_back_office_route_is_for_platform_admins_only(app, client, auth, merchant, role):
    rules = _rules(app)
    assert len(rules) >= 20
    if role != "anonymous":
        auth.login_as(getattr(merchant, role))
    token = csrf_token_from(client.get("/login")) if role == "anonymous" else \
        csrf_token_from(client.get("/account"))
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_url(app, rule), method=method, data={"csrf_token": token})
            if role == "anonymous":
                assert response.status_code == 302, (rule.rule, method)
                assert "/login" in response.location
            else:
                assert response.status_code == 403, (rule.rule, method, response.status_code)


def _world():
    """Two merchants with programs and cards; a store deleted on its own before."""
    cafe = factories.merchant_with_team("Café Gare", "cafe-gare")
    factories.points_program(cafe.merchant)
    factories.card(cafe.merchant, "Carla Card", email="carla@example.com")
    bakery = factories.merchant_with_team("Bakery Diekirch", "bakery-diekirch", stores=1)
    factories.stamp_program(bakery.merchant)
    with_history = cafe.stores[1]
    soft_delete(with_history)
    db.session.commit()
    return cafe, bakery


@pytest.mark.parametrize("kind, live, deleted", [
    ("merchants", "Café Gare", "Gone Shop"),
    ("stores", "Café Gare store 1", "Café Gare store 2"),
    ("users", "Café Gare owner", "Gone User"),
])
def test_each_list_hides_includes_or_shows_only_deleted_records(client, signed_in_admin, kind,
                                                                live, deleted):
    _world()
    gone_shop = accounts.create_merchant("Gone Shop", "gone-shop")
    gone_user = factories.user("Gone User")
    accounts.delete_record(gone_shop)
    accounts.delete_record(gone_user)
    pages = {name: client.get(f"/admin/{kind}?deleted={name}").get_data(as_text=True)
             for name in ("live", "all", "deleted")}
    assert live in pages["live"] and deleted not in pages["live"]
    assert live in pages["all"] and deleted in pages["all"]
    assert live not in pages["deleted"] and deleted in pages["deleted"]
    searched = client.get(f"/admin/{kind}?deleted=all&q={live.split()[0].lower()}")
    assert live in searched.get_data(as_text=True)


def test_deleting_a_merchant_says_what_goes_and_restoring_brings_exactly_that_back(
        client, signed_in_admin):
    cafe, bakery = _world()
    merchant_id = cafe.merchant.id
    confirm = client.get(f"/admin/merchants/{merchant_id}/delete").get_data(as_text=True)
    assert "1 merchant" in confirm and "1 store" in confirm  # the other store was gone before
    assert "3 team memberships" in confirm and "1 loyalty program" in confirm
    assert "1 card" in confirm and "2 customers" in confirm

    response = _post(client, f"/admin/merchants/{merchant_id}/delete")
    assert response.status_code == 302
    db.session.commit()
    hidden = {"include_deleted": True}
    stores = db.session.scalars(select(Store).where(Store.merchant_id == merchant_id)
                                .execution_options(**hidden)).all()
    assert all(store.deleted_at for store in stores)
    assert db.session.scalar(select(LoyaltyCard).where(
        LoyaltyCard.merchant_id == merchant_id)) is None  # hidden: deleted
    assert db.session.scalar(select(Merchant).where(Merchant.id == bakery.merchant.id))
    assert "Café Gare" in client.get("/admin/merchants?deleted=deleted").get_data(as_text=True)

    response = _post(client, f"/admin/merchants/{merchant_id}/restore", page="/admin/merchants")
    assert response.status_code == 302
    db.session.commit()
    stores = {store.code: store.deleted_at for store in db.session.scalars(
        select(Store).where(Store.merchant_id == merchant_id).execution_options(**hidden))}
    assert stores["S1"] is None and stores["S2"] is not None  # deleted on its own: stays
    assert db.session.scalar(select(LoyaltyProgram).where(
        LoyaltyProgram.merchant_id == merchant_id)) is not None
    assert db.session.scalar(select(LoyaltyCard).where(LoyaltyCard.merchant_id == merchant_id))
    assert len(db.session.scalars(select(Membership).where(
        Membership.merchant_id == merchant_id)).all()) == 3
    actions = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.merchant_id == merchant_id).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["merchant.delete", "merchant.restore"]


def test_a_restored_user_signs_in_again(client, auth, signed_in_admin):
    cafe, _bakery = _world()
    _post(client, f"/admin/users/{cafe.owner.id}/delete")
    auth.logout()
    assert auth.login(cafe.owner.email).status_code == 401  # refused: no such account
    auth.login_as(signed_in_admin)
    _post(client, f"/admin/users/{cafe.owner.id}/restore", page="/admin/users")
    auth.logout()
    assert auth.login_as(cafe.owner).status_code == 302


def test_a_restore_that_clashes_with_a_live_record_says_which(client, signed_in_admin):
    cafe, _bakery = _world()
    email = cafe.staff.email
    _post(client, f"/admin/users/{cafe.staff.id}/delete")
    factories.user("Newcomer", email=email)
    db.session.commit()
    response = _post(client, f"/admin/users/{cafe.staff.id}/restore", page="/admin/users")
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert f"another account uses the email address {email}" in page
    db.session.commit()
    assert db.session.scalar(select(User).where(User.id == cafe.staff.id)
                             .execution_options(include_deleted=True)).deleted_at is not None


def test_a_new_merchant_invites_its_owner_and_an_edit_is_audited(client, signed_in_admin):
    response = _post(client, "/admin/merchants/new", {
        "name": "Épicerie Nord", "slug": "epicerie-nord", "timezone": "Europe/Luxembourg",
        "currency": "EUR", "default_locale": "fr", "country": "LU",
        "owner_name": "Nina Owner", "owner_email": "nina@example.com"})
    assert response.status_code == 302
    db.session.commit()
    merchant = db.session.scalar(select(Merchant).where(Merchant.slug == "epicerie-nord"))
    owner = db.session.scalar(select(User).where(User.email == "nina@example.com"))
    assert owner is not None and merchant.default_locale == "fr"
    assert db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.merchant_id == merchant.id)).payload["template"] == "team_invitation"

    taken = _post(client, "/admin/merchants/new", {
        "name": "Copy", "slug": "epicerie-nord", "timezone": "UTC", "currency": "EUR",
        "default_locale": "en", "country": "LU", "owner_name": "X", "owner_email": "x@example.com"})
    assert taken.status_code == 422 and "already uses this web address" in taken.get_data(as_text=True)

    edit = _post(client, f"/admin/merchants/{merchant.id}", {
        "name": "Épicerie du Nord", "slug": "epicerie-nord", "timezone": "Europe/Luxembourg",
        "currency": "EUR", "default_locale": "fr", "country": "LU"})
    assert edit.status_code == 302
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "merchant.update"))
    assert entry.changes == {"name": ["Épicerie Nord", "Épicerie du Nord"]}
    log = client.get("/admin/audit?action=merchant.update").get_data(as_text=True)
    assert "Épicerie Nord" in log and "Épicerie du Nord" in log
    exported = client.get("/admin/audit.csv?action=merchant").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    assert [row[3] for row in rows[1:]] == ["merchant.create", "merchant.update"]


def test_bad_merchant_fields_are_said_next_to_the_field(client, signed_in_admin):
    response = _post(client, "/admin/merchants/new", {
        "name": "Shop", "slug": "Not A Slug!", "timezone": "Mars/Olympus", "currency": "EUR",
        "default_locale": "en", "country": "LU", "owner_name": "O", "owner_email": "o@example.com"})
    assert response.status_code == 422
    assert "lower-case letters, digits and dashes" in response.get_data(as_text=True)
    assert db.session.scalar(select(Merchant).where(Merchant.name == "Shop")) is None


def test_an_admin_keeps_their_own_account_and_the_platform_keeps_an_admin(client, auth,
                                                                          signed_in_admin):
    confirm = client.get(f"/admin/users/{signed_in_admin.id}/delete")
    assert "1 user account" in confirm.get_data(as_text=True)
    refused = _post(client, f"/admin/users/{signed_in_admin.id}/delete")
    assert "You cannot delete your own account." in client.get(refused.location).get_data(
        as_text=True)
    with pytest.raises(Conflict, match="at least one admin"):  # the last one (a script)
        records.delete(signed_in_admin, actor=Actor(user_id=None))
    db.session.rollback()
    other = factories.user("Otto Admin", admin=True)
    db.session.commit()
    records.delete(other, actor=Actor(user_id=signed_in_admin.id))  # one admin is left: fine
    db.session.commit()
    assert records.record("users", other.id).deleted_at is not None


def test_a_record_deleted_twice_at_once_keeps_one_batch(client, signed_in_admin):
    cafe, _bakery = _world()
    stale = db.session.get(Merchant, cafe.merchant.id)
    records.delete(stale, actor=Actor(user_id=signed_in_admin.id))
    with pytest.raises(Conflict, match="already deleted"):
        records.delete(stale, actor=Actor(user_id=signed_in_admin.id))  # the page was stale
    db.session.rollback()
    records.restore(records.record("merchants", cafe.merchant.id),
                    actor=Actor(user_id=signed_in_admin.id))
    db.session.commit()
    assert db.session.scalar(select(LoyaltyCard).where(
        LoyaltyCard.merchant_id == cafe.merchant.id)) is not None  # the whole batch came back


def test_a_store_comes_back_only_with_its_merchant(client, signed_in_admin):
    cafe, _bakery = _world()
    _post(client, f"/admin/merchants/{cafe.merchant.id}/delete")
    store = cafe.stores[1]  # deleted on its own before the merchant
    response = _post(client, f"/admin/stores/{store.id}/restore", page="/admin/stores")
    assert "restore the merchant first" in client.get(response.location).get_data(as_text=True)


def test_an_admin_adds_a_store_to_a_merchant(client, signed_in_admin):
    cafe, _bakery = _world()
    data = {"name": "Kirchberg", "code": "kirch", "address": "", "phone": "", "opening_note": ""}
    response = _post(client, f"/admin/merchants/{cafe.merchant.id}/stores/new", data)
    assert response.status_code == 302
    db.session.commit()
    store = db.session.scalar(select(Store).where(Store.code == "KIRCH"))
    assert store.merchant_id == cafe.merchant.id
    again = _post(client, f"/admin/merchants/{cafe.merchant.id}/stores/new", data)
    assert again.status_code == 422 and "already uses this code" in again.get_data(as_text=True)
