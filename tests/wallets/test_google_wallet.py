"""Google Wallet against a local stand-in of the token endpoint and walletobjects v1: the
class and object are created before the save link, whose JWT verifies with the service
account's public key, and a card's new balance is PATCHed."""
import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from loyalty.extensions import db
from loyalty.jobs.wallet import sync_wallet_passes
from loyalty.models import LoyaltyProgram
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.points import earn_points
from loyalty.services.wallets import google as google_wallet
from loyalty.services.wallets import status as wallets
from tests import factories


def _unpadded(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class StandIn(BaseHTTPRequestHandler):
    """Google's token endpoint and walletobjects, in memory."""

    def log_message(self, *args):
        pass

    def _answer(self, status, body=None):
        data = json.dumps(body or {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _record(self, body=None):
        self.server.calls.append((self.command, urlsplit(self.path).path, body))

    def do_POST(self):  # noqa: N802 - http.server's names
        raw = self._body()
        if self.path == "/token":
            self._record()
            return self._answer(200, {"access_token": "stand-in", "expires_in": 3600,
                                      "token_type": "Bearer"})
        if self.headers.get("Authorization") != "Bearer stand-in":
            return self._answer(401)
        body = json.loads(raw)
        self._record(body)
        if self.path.endswith("/addMessage"):
            return self._answer(200, {})
        self.server.objects[body["id"]] = body
        return self._answer(200, body)

    def do_GET(self):  # noqa: N802
        self._record()
        identifier = urlsplit(self.path).path.rsplit("/", 1)[-1]
        if identifier in self.server.objects:
            return self._answer(200, self.server.objects[identifier])
        return self._answer(404, {"error": {"code": 404}})

    def do_PATCH(self):  # noqa: N802
        body = json.loads(self._body())
        self._record(body)
        self.server.objects[body["id"]].update(body)
        return self._answer(200, self.server.objects[body["id"]])


@pytest.fixture
def google(tmp_path, wallet_files):
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    server.calls, server.objects = [], {}
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    account = json.loads(wallet_files["service_account"].read_text())
    account["token_uri"] = f"{base}/token"
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(account))
    server.settings = {"GOOGLE_WALLET_ISSUER_ID": "3388000000022",
                       "GOOGLE_WALLET_SERVICE_ACCOUNT_FILE": str(path),
                       "GOOGLE_WALLET_API_URL": f"{base}/walletobjects/v1"}
    yield server
    server.shutdown()


def test_the_save_link_creates_the_class_and_object_and_a_new_balance_is_patched(
        make_app, google, wallet_files):
    app = make_app(**google.settings)
    with app.app_context():
        team = factories.merchant_with_team("Google Shop", "google-shop")
        factories.points_program(team.merchant)
        card = factories.card(team.merchant, "Gina Google", email="gina@example.com")
        db.session.commit()
        client = app.test_client()
        page = client.get(f"/card/{card.page_secret}").get_data(as_text=True)
        assert "Add to Google Wallet" in page and "Add to Apple Wallet" not in page
        response = client.get(f"/card/{card.page_secret}/google-wallet")
        assert response.status_code == 302
        assert response.location.startswith("https://pay.google.com/gp/v/save/")
        token = response.location.rsplit("/", 1)[-1]
        header, payload, signature = token.split(".")
        wallet_files["google_public"].verify(  # raises unless the service account signed it
            _unpadded(signature), f"{header}.{payload}".encode(), padding.PKCS1v15(),
            hashes.SHA256())
        assert json.loads(_unpadded(header))["alg"] == "RS256"
        claims = json.loads(_unpadded(payload))
        assert claims["aud"] == "google"
        object_id = f"3388000000022.card-{card.id}"
        assert claims["iss"] == "wallet@test-project.iam.gserviceaccount.com"
        assert claims["typ"] == "savetowallet" and claims["origins"] == ["http://localhost"]
        assert claims["payload"] == {"loyaltyObjects": [{"id": object_id}]}
        steps = [(method, path.rsplit("/", 1)[-1]) for method, path, _body in google.calls]
        class_id = next(key for key in google.objects if ".program-" in key)
        assert steps == [("POST", "token"), ("GET", class_id), ("POST", "loyaltyClass"),
                         ("GET", object_id), ("POST", "loyaltyObject")]
        inserted = google.objects[object_id]
        assert inserted["barcode"] == {"type": "QR_CODE", "value": card.qr_token,
                                       "alternateText": card.card_number}
        assert inserted["state"] == "ACTIVE" and inserted["loyaltyPoints"]["balance"] == {"int": 0}
        db.session.commit()
        assert db.session.get(type(card), card.id, populate_existing=True).google_object_id == \
            object_id

        google.calls.clear()
        context = ActionContext(store_id=team.stores[0].id)
        earn_points(card, 1250, context=context)  # the card's job PATCHes its object
        db.session.commit()
        patches = [body for method, _path, body in google.calls if method == "PATCH"]
        assert patches[-1]["loyaltyPoints"]["balance"] == {"int": 125}
        for _ in range(4):
            earn_points(card, 100, context=context)
        messages = [body["message"] for method, path, body in google.calls
                    if path.endswith("/addMessage")]
        assert len(messages) == 5 and messages[0]["body"] == "Balance: 125 points"
        kinds = [message["messageType"] for message in messages]
        assert kinds == ["TEXT_AND_NOTIFY"] * 3 + ["TEXT"] * 2  # 3 notifications a day at most


def test_a_branding_change_updates_the_class(make_app, google):
    from loyalty.services.merchant import branding

    app = make_app(**google.settings)
    with app.app_context():
        team = factories.merchant_with_team("Brand Shop", "brand-shop")
        program = factories.points_program(team.merchant)
        card = factories.card(team.merchant, "Bea Brand", email="bea@example.com")
        db.session.commit()
        app.test_client().get(f"/card/{card.page_secret}/google-wallet")
        db.session.commit()
        assert db.session.get(type(program), program.id, populate_existing=True) \
            .google_review_status == "UNDER_REVIEW"
        google.calls.clear()
        branding.update_branding(program, primary_color="#aa0000")
        db.session.commit()
        methods = [(method, path.rsplit("/", 1)[-1]) for method, path, _body in google.calls
                   if method != "POST" or not path.endswith("token")]
        class_id = f"3388000000022.program-{program.id}"
        assert ("PATCH", class_id) in methods
        assert google.objects[class_id]["hexBackgroundColor"] == "#aa0000"


def test_google_down_is_a_message_not_an_error_page(make_app, google):
    app = make_app(**{**google.settings, "GOOGLE_WALLET_API_URL": "http://127.0.0.1:9/v1"})
    with app.app_context():
        team = factories.merchant_with_team("Down Shop", "down-shop")
        factories.stamp_program(team.merchant)
        card = factories.card(team.merchant, "Dan Down", email="dan@example.com")
        db.session.commit()
        response = app.test_client().get(f"/card/{card.page_secret}/google-wallet")
        assert response.status_code == 503
        assert "Google Wallet is not answering" in response.get_data(as_text=True)


def test_the_hourly_sync_keeps_googles_review_of_the_classes(make_app, google):
    app = make_app(**google.settings)
    with app.app_context():
        shops = []
        for name in ("Review Shop", "Other Shop"):
            team = factories.merchant_with_team(name, name.lower().replace(" ", "-"))
            program = factories.points_program(team.merchant)
            card = factories.card(team.merchant, "Rita Review",
                                  email=f"rita@{team.merchant.slug}.lu")
            db.session.commit()
            app.test_client().get(f"/card/{card.page_secret}/google-wallet")
            shops.append(program.id)
        approved, rejected = (f"3388000000022.program-{program_id}" for program_id in shops)
        google.objects[approved]["reviewStatus"] = "APPROVED"  # Google reviewed them
        google.objects[rejected]["reviewStatus"] = "REJECTED"
        google.calls.clear()

        sync_wallet_passes()
        db.session.commit()
        statuses = [db.session.get(LoyaltyProgram, program_id).google_review_status
                    for program_id in shops]
        assert statuses == ["APPROVED", "REJECTED"]
        assert sorted(path.rsplit("/", 1)[-1] for method, path, _body in google.calls
                      if method == "GET") == sorted([approved, rejected])
        assert wallets.review_statuses() == {"APPROVED": 1, "REJECTED": 1}  # the status page

        google.calls.clear()
        sync_wallet_passes()  # their review is over: Google is not asked again
        assert [call for call in google.calls if call[0] == "GET"] == []


def test_a_review_google_does_not_answer_about_is_asked_again_later(make_app, google):
    app = make_app(**google.settings)
    with app.app_context():
        team = factories.merchant_with_team("Wait Shop", "wait-shop")
        program_id = factories.points_program(team.merchant).id
        card = factories.card(team.merchant, "Will Wait", email="will@example.com")
        db.session.commit()
        app.test_client().get(f"/card/{card.page_secret}/google-wallet")
    down = make_app(**{**google.settings, "GOOGLE_WALLET_API_URL": "http://127.0.0.1:9/v1"})
    with down.app_context():
        assert google_wallet.refresh_reviews() == {}  # no answer: nothing changes, no error
        assert db.session.get(LoyaltyProgram, program_id).google_review_status == "UNDER_REVIEW"
    with app.app_context():
        google.objects[f"3388000000022.program-{program_id}"]["reviewStatus"] = "APPROVED"
        assert google_wallet.refresh_reviews() == {program_id: "APPROVED"}
