"""``flask loyalty api-key create|list|revoke``: a key for scripts and set-up, printed once,
and clear refusals (exit code 1) for an unknown merchant, store or scope."""
import hashlib

from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import ApiKey
from loyalty.services.integrations import api_keys
from loyalty.services.merchant import stores
from tests.conftest import run_cli


def _create(app, *args):
    return run_cli(app, "loyalty", "api-key", "create", "--merchant", "cafe-test", *args)


def test_a_key_is_printed_alone_and_works(app, client, merchant):
    result = _create(app, "--name", "Till 2, Gare", "--store", "s2")
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert api_keys.KEY_SHAPE.match(key)  # stdout is the key alone: KEY=$(flask ...)
    assert "not shown again" in result.stderr and key not in result.stderr
    row = db.session.scalar(select(ApiKey))
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert row.name == "Till 2, Gare" and row.store_id == merchant.stores[1].id
    assert row.scope_list == ["cards:read", "purchases"]  # the default: what a till needs
    assert row.created_by_id is None
    answer = client.get("/api/v1/stores", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200
    assert {store["code"] for store in answer.json["stores"]} == {"S1", "S2"}


def test_scopes_are_repeated_and_the_help_says_the_default(app, merchant):
    result = _create(app, "--name", "Web shop", "--scope", "cards:write", "--scope", "cards:read")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(ApiKey)).scope_list == ["cards:read", "cards:write"]
    assert db.session.scalar(select(ApiKey)).store_id is None
    help_text = run_cli(app, "loyalty", "api-key", "create", "--help").output
    assert "Without --scope: cards:read and" in help_text and "purchases" in help_text


def test_unknown_merchant_store_or_scope_is_refused_and_creates_nothing(app, merchant):
    no_merchant = run_cli(app, "loyalty", "api-key", "create", "--merchant", "nobody",
                          "--name", "Till")
    assert no_merchant.exit_code == 1 and "No merchant with the slug 'nobody'." in no_merchant.output
    no_store = _create(app, "--name", "Till", "--store", "GARE")
    assert no_store.exit_code == 1
    assert "cafe-test has no open store with the code 'GARE' (open stores: S1, S2)." in \
        no_store.output
    no_scope = _create(app, "--name", "Till", "--scope", "everything")
    assert no_scope.exit_code == 2 and "'everything' is not one of" in no_scope.output
    no_name = _create(app, "--name", "   ")
    assert no_name.exit_code == 1
    assert "Give the key a name, such as the till it is for." in no_name.output
    missing = run_cli(app, "loyalty", "api-key", "create", "--merchant", "cafe-test")
    assert missing.exit_code == 2 and "--name" in missing.output
    assert db.session.scalars(select(ApiKey)).all() == []


def test_a_closed_store_is_refused(app, merchant):
    stores.set_store_open(merchant.stores[1], False, actor=None)
    result = _create(app, "--name", "Till", "--store", "S2")
    assert result.exit_code == 1 and "(open stores: S1)" in result.output


def test_list_and_revoke(app, client, merchant, other_merchant):
    key = _create(app, "--name", "Till 1").stdout.strip()
    theirs, _secret = api_keys.create_key(other_merchant.merchant.id, name="Their till",
                                          scopes=["cards:read"])
    row = db.session.scalar(select(ApiKey).where(ApiKey.name == "Till 1"))
    listed = run_cli(app, "loyalty", "api-key", "list", "--merchant", "cafe-test")
    assert listed.exit_code == 0
    assert row.prefix in listed.output and "active" in listed.output and "Till 1" in listed.output
    assert "Their till" not in listed.output

    foreign = run_cli(app, "loyalty", "api-key", "revoke", "--merchant", "cafe-test",
                      str(theirs.id))
    assert foreign.exit_code == 1 and f"cafe-test has no API key {theirs.id}." in foreign.output
    assert run_cli(app, "loyalty", "api-key", "revoke", "--merchant", "cafe-test",
                   "99999999999999999999999").exit_code == 2

    revoked = run_cli(app, "loyalty", "api-key", "revoke", "--merchant", "cafe-test", str(row.id))
    assert revoked.exit_code == 0 and "Revoked API key" in revoked.output
    assert client.get("/api/v1/stores",
                      headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert "revoked" in run_cli(app, "loyalty", "api-key", "list", "--merchant",
                                "cafe-test").output
    db.session.expire_all()
    assert db.session.get(ApiKey, theirs.id).revoked_at is None
