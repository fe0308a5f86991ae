"""The Apple pass of a card: its files, manifest and signature, served from the card page,
and the PassKit web service the phone calls afterwards."""
import hashlib
import io
import json
import subprocess
import zipfile

import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import AppleRegistration, LoyaltyCard
from loyalty.services.engine.stamps import add_stamp
from tests import factories
from tests.wallets.conftest import PASS_TYPE, TEAM


@pytest.fixture
def card(merchant):
    factories.stamp_program(merchant.merchant, terms_text="Stamps are personal.")
    card = factories.card(merchant.merchant, "Wanda Wallet", email="wanda@example.com")
    card.customer.preferred_locale = "fr"
    db.session.commit()
    return card


def _pkpass(client, card):
    response = client.get(f"/card/{card.page_secret}/wallet.pkpass")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/vnd.apple.pkpass"
    return response, zipfile.ZipFile(io.BytesIO(response.data))


def test_the_card_page_offers_the_pass_and_it_is_a_signed_store_card(client, card, tmp_path,
                                                                     wallet_files):
    page = client.get(f"/card/{card.page_secret}").get_data(as_text=True)
    assert f"/card/{card.page_secret}/wallet.pkpass" in page
    _response, archive = _pkpass(client, card)
    names = set(archive.namelist())
    assert {"pass.json", "manifest.json", "signature", "icon.png", "icon@2x.png", "icon@3x.png",
            "logo.png", "strip@3x.png", "fr.lproj/pass.strings", "lb.lproj/pass.strings"} <= names
    manifest = json.loads(archive.read("manifest.json"))
    assert set(manifest) == names - {"manifest.json", "signature"}
    for name, digest in manifest.items():
        assert hashlib.sha1(archive.read(name)).hexdigest() == digest  # noqa: S324
    data = json.loads(archive.read("pass.json"))
    db.session.commit()
    card = db.session.get(LoyaltyCard, card.id, populate_existing=True)
    assert (data["passTypeIdentifier"], data["teamIdentifier"]) == (PASS_TYPE, TEAM)
    assert data["serialNumber"] == card.apple_serial_number and len(data["authenticationToken"]) >= 16
    assert data["webServiceURL"] == "http://localhost/wallet/apple"
    assert data["barcodes"] == [{"format": "PKBarcodeFormatQR", "message": card.qr_token,
                                 "messageEncoding": "iso-8859-1", "altText": card.card_number}]
    primary = data["storeCard"]["primaryFields"][0]
    assert primary["label"] == "Tampons" and primary["value"] == "0/10"  # the customer's French
    assert primary["changeMessage"] == "Solde : %@"
    back = {field["key"]: field["value"] for field in data["storeCard"]["backFields"]}
    assert back["terms"] == "Stamps are personal." and card.page_secret in back["link"]
    german = archive.read("de.lproj/pass.strings").decode()
    assert '"Tampons" = "Stempel";' in german

    for name in ("manifest.json", "signature"):
        (tmp_path / name).write_bytes(archive.read(name))
    verify = ["openssl", "smime", "-verify", "-binary", "-inform", "DER", "-in",
              str(tmp_path / "signature"), "-content", str(tmp_path / "manifest.json"),
              "-CAfile", str(wallet_files["ca"]), "-purpose", "any", "-out", "/dev/null"]
    assert subprocess.run(verify, capture_output=True).returncode == 0
    (tmp_path / "manifest.json").write_bytes(archive.read("manifest.json").replace(b'"', b"'", 1))
    assert subprocess.run(verify, capture_output=True).returncode != 0  # tampered: refused
    for name in names - {"manifest.json", "signature"}:  # any other file: its hash is signed
        tampered = archive.read(name) + b" "
        assert hashlib.sha1(tampered).hexdigest() != manifest[name]  # noqa: S324


def test_without_wallet_settings_there_is_no_button_and_no_pass(make_app):
    app = make_app()
    with app.app_context():
        team = factories.merchant_with_team("Plain Shop", "plain-shop")
        factories.stamp_program(team.merchant)
        card = factories.card(team.merchant, "Nora None", email="nora@example.com")
        db.session.commit()
        client = app.test_client()
        page = client.get(f"/card/{card.page_secret}").get_data(as_text=True)
        assert "Apple Wallet" not in page and "Google Wallet" not in page
        assert client.get(f"/card/{card.page_secret}/wallet.pkpass").status_code == 404
        assert client.get(f"/wallet/apple/v1/passes/{PASS_TYPE}/x").status_code == 404


def _auth(card):
    return {"Authorization": f"ApplePass {card.apple_auth_token}"}


def test_the_passkit_web_service(client, card, counter):
    _pkpass(client, card)  # the pass exists: its serial number is set
    db.session.commit()
    card = db.session.get(LoyaltyCard, card.id, populate_existing=True)
    base = "/wallet/apple/v1"
    register = f"{base}/devices/device-1/registrations/{PASS_TYPE}/{card.apple_serial_number}"
    body = {"pushToken": "a1b2c3d4"}
    assert client.post(register, json=body).status_code == 401
    assert client.post(register, json=body, headers={"Authorization": "ApplePass wrong"}).status_code == 401
    assert client.post(register, json=body, headers=_auth(card)).status_code == 201
    assert client.post(register, json=body, headers=_auth(card)).status_code == 200
    assert client.post(register, json={"pushToken": 5}, headers=_auth(card)).status_code == 400
    assert db.session.scalar(select(AppleRegistration.push_token)) == "a1b2c3d4"

    listing = client.get(f"{base}/devices/device-1/registrations/{PASS_TYPE}")
    assert listing.status_code == 200
    first = listing.get_json()
    assert first["serialNumbers"] == [card.apple_serial_number]
    tag = first["lastUpdated"]
    assert isinstance(tag, str)
    unchanged = client.get(f"{base}/devices/device-1/registrations/{PASS_TYPE}",
                           query_string={"passesUpdatedSince": tag})
    assert unchanged.status_code == 204
    add_stamp(card, context=counter)
    db.session.commit()
    changed = client.get(f"{base}/devices/device-1/registrations/{PASS_TYPE}",
                         query_string={"passesUpdatedSince": tag}).get_json()
    assert changed["serialNumbers"] == [card.apple_serial_number]
    assert int(changed["lastUpdated"]) > int(tag)

    latest = f"{base}/passes/{PASS_TYPE}/{card.apple_serial_number}"
    assert client.get(latest).status_code == 401
    fresh = client.get(latest, headers=_auth(card))
    assert fresh.status_code == 200 and fresh.mimetype == "application/vnd.apple.pkpass"
    again = client.get(latest, headers={**_auth(card),
                                        "If-Modified-Since": fresh.headers["Last-Modified"]})
    assert again.status_code == 304
    stamps = json.loads(zipfile.ZipFile(io.BytesIO(fresh.data)).read("pass.json"))
    assert stamps["storeCard"]["primaryFields"][0]["value"] == "1/10"

    assert client.post(f"{base}/log", json={"logs": ["a device said hello"]}).status_code == 200
    assert client.delete(register, headers=_auth(card)).status_code == 200
    assert client.delete(register).status_code == 401
    assert db.session.scalar(select(AppleRegistration)) is None
    gone = client.get(f"{base}/devices/device-1/registrations/{PASS_TYPE}")
    assert gone.status_code == 204


def test_the_admin_wallet_status_page(client, auth, card, wallet_files, make_app):
    admin = factories.user("Ada Admin", admin=True)
    db.session.commit()
    auth.login_as(admin)
    client.get(f"/card/{card.page_secret}/wallet.pkpass")
    page = client.get("/admin/wallets").get_data(as_text=True)
    assert "Configured" in page and f"UID={PASS_TYPE}" in page
    assert "GOOGLE_WALLET_ISSUER_ID" in page  # Google is not configured: what is missing
    assert 'data-testid="apple-passes">1<' in page


def test_the_status_page_says_what_is_wrong_with_the_certificate(make_app, wallet_files):
    from loyalty.services.wallets import status as wallets

    app = make_app(APPLE_PASS_TYPE_ID="pass.other", APPLE_TEAM_ID=TEAM,
                   APPLE_PASS_CERT_FILE=str(wallet_files["cert"]),
                   APPLE_PASS_KEY_FILE=str(wallet_files["key"]),
                   APPLE_WWDR_CERT_FILE=str(wallet_files["ca"]))
    with app.test_request_context():
        status = wallets.apple_status()
        errors = [message for level, message in status.problems if level == "error"]
        assert len(errors) == 1 and "pass type" in errors[0]
        assert any("HTTPS" in message for _level, message in status.problems)  # http base
