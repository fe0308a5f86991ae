"""Settings > Integrations: an owner creates API keys (shown once, kept as a hash), sees them
listed and revokes them; nobody else opens the page or touches another merchant's keys."""
import hashlib
import re

import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import ApiKey, AuditEntry
from loyalty.services.audit import Actor
from loyalty.services.integrations import api_keys
from loyalty.services.merchant import stores
from tests.conftest import csrf_token_from

KEY = re.compile(r"lk_(?:live|test)_[A-Za-z0-9_-]{43}")


def _post(client, url, data=None, **kwargs):
    token = csrf_token_from(client.get("/account"))
    return client.post(url, data={**(data or {}), "csrf_token": token}, **kwargs)


def _create(client, **data):
    data.setdefault("name", "Till 2, Gare")
    data.setdefault("store_id", "")
    data.setdefault("scopes", ["cards:read", "purchases"])
    return _post(client, "/merchant/integrations", data)


def test_a_new_key_is_shown_once_and_only_its_hash_is_kept(auth, client, merchant):
    auth.login_as(merchant.owner)
    created = _create(client, store_id=str(merchant.stores[1].id))
    assert created.status_code == 200
    assert "Copy it now: it will not be shown again." in created.text
    keys = KEY.findall(created.text)
    assert len(set(keys)) == 1
    key = keys[0]
    row = db.session.scalar(select(ApiKey).where(ApiKey.merchant_id == merchant.merchant.id))
    assert row.name == "Till 2, Gare" and row.store_id == merchant.stores[1].id
    assert row.scope_list == ["cards:read", "purchases"]
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {row.name, row.prefix, row.key_hash, row.scopes}
    assert created.headers["Cache-Control"] == "no-store"
    assert key not in created.headers.get("Set-Cookie", "")  # not in a flash, not in the session
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api_key.create"))
    assert entry.actor_id == merchant.owner.id and key not in str(entry.changes)

    again = client.get("/merchant/integrations")
    assert KEY.search(again.text) is None
    assert "Copy it now" not in again.text
    assert row.prefix in again.text and "Till 2, Gare" in again.text
    assert merchant.stores[1].name in again.text and merchant.owner.name in again.text


def test_the_key_from_the_page_works_until_it_is_revoked(auth, client, merchant):
    auth.login_as(merchant.owner)
    key = KEY.search(_create(client).text).group(0)
    bearer = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/program", headers=bearer).status_code in (200, 404)  # a key works
    row = db.session.scalar(select(ApiKey))
    listed = client.get("/merchant/integrations").text
    assert f"/merchant/integrations/keys/{row.id}/revoke" in listed
    revoked = _post(client, f"/merchant/integrations/keys/{row.id}/revoke", follow_redirects=True)
    assert revoked.status_code == 200
    assert "The key “Till 2, Gare” is revoked" in revoked.text
    assert f"/merchant/integrations/keys/{row.id}/revoke" not in revoked.text  # no second button
    answer = client.get("/api/v1/program", headers=bearer)
    assert answer.status_code == 401
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    db.session.expire_all()
    assert db.session.get(ApiKey, row.id).revoked_by_id == merchant.owner.id
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["api_key.create", "api_key.revoke"]


def test_another_merchants_key_cannot_be_revoked(auth, client, merchant, other_merchant):
    theirs, key = api_keys.create_key(other_merchant.merchant.id, name="Their till",
                                      scopes=["cards:read"])
    auth.login_as(merchant.owner)
    assert "Their till" not in client.get("/merchant/integrations").text
    for key_id in (theirs.id, 2**62, 0):
        assert _post(client, f"/merchant/integrations/keys/{key_id}/revoke").status_code == 404
    db.session.expire_all()
    assert db.session.get(ApiKey, theirs.id).revoked_at is None
    assert client.get("/api/v1/program",
                      headers={"Authorization": f"Bearer {key}"}).status_code != 401


@pytest.mark.parametrize("who", ["manager", "staff"])
def test_only_owners_open_the_page(auth, client, merchant, who):
    row, _key = api_keys.create_key(merchant.merchant.id, name="Till 1", scopes=["cards:read"])
    auth.login_as(getattr(merchant, who))
    assert client.get("/merchant/integrations").status_code == 403
    assert _create(client).status_code == 403
    assert _post(client, f"/merchant/integrations/keys/{row.id}/revoke").status_code == 403
    assert db.session.scalars(select(ApiKey)).all() == [row] and row.revoked_at is None
    assert "/merchant/integrations" not in client.get("/merchant/").text  # not in the menu


def test_the_owner_finds_the_page_in_the_settings_menu(auth, client, merchant):
    auth.login_as(merchant.owner)
    menu = client.get("/merchant/").text
    assert 'href="/merchant/integrations"' in menu
    page = client.get("/merchant/integrations").text
    assert 'href="/api/docs"' in page
    for scope, about in api_keys.SCOPES.items():
        assert f'value="{scope}"' in page and str(about) in page


def test_creating_needs_the_csrf_token(auth, client, merchant):
    auth.login_as(merchant.owner)
    refused = client.post("/merchant/integrations", data={"name": "Till", "scopes": "purchases"})
    assert refused.status_code == 400
    row, _key = api_keys.create_key(merchant.merchant.id, name="Till 1", scopes=["cards:read"])
    assert client.post(f"/merchant/integrations/keys/{row.id}/revoke").status_code == 400
    db.session.expire_all()
    assert db.session.scalars(select(ApiKey)).all() == [row] and row.revoked_at is None


def test_a_refused_key_keeps_what_was_typed(auth, client, merchant):
    auth.login_as(merchant.owner)
    store = merchant.stores[1]
    no_scope = _create(client, name="Web shop", store_id=str(store.id), scopes=[])
    assert no_scope.status_code == 422
    assert "Pick at least one thing the key may do." in no_scope.text
    assert 'value="Web shop"' in no_scope.text
    assert re.search(rf'<option selected value="{store.id}">|<option value="{store.id}" selected',
                     no_scope.text)
    assert 'data-testid="error-summary"' in no_scope.text

    no_name = _create(client, name="  ", scopes=["cards:write", "redemptions"])
    assert no_name.status_code == 422
    assert "Give the key a name, such as the till it is for." in no_name.text
    ticked = set(re.findall(r'value="([a-z:]+)" checked', no_name.text))
    assert ticked == {"cards:write", "redemptions"}

    for bad in ({"scopes": ["everything"]}, {"store_id": "999999"},
                {"store_id": str(store.id + 1000)}, {"name": "x" * 81}):
        assert _create(client, **bad).status_code == 422, bad
    assert db.session.scalars(select(ApiKey)).all() == []
    assert KEY.search(no_name.text) is None


def test_a_new_key_offers_the_usual_tills_permissions(auth, client, merchant):
    auth.login_as(merchant.owner)
    page = client.get("/merchant/integrations").text
    ticked = set(re.findall(r'value="([a-z:]+)" checked', page))
    assert ticked == {"cards:read", "purchases"}


def test_a_closed_store_cannot_be_chosen(auth, client, merchant):
    closed = merchant.stores[1]
    stores.set_store_open(closed, False, actor=Actor(user_id=merchant.owner.id,
                                                     merchant_id=merchant.merchant.id))
    auth.login_as(merchant.owner)
    assert f'value="{closed.id}"' not in client.get("/merchant/integrations").text
    assert _create(client, store_id=str(closed.id)).status_code == 422
