"""Pushes after a card changes: a local HTTP/2 TLS server that requires the pass certificate
stands in for APNs; every registered device gets one push, and a 410 removes its
registration."""
import io
import json
import ssl
import threading
import zipfile
from datetime import timedelta

import h2.config
import h2.connection
import h2.events
import pytest
from sqlalchemy import select

from loyalty import clock
from loyalty.extensions import db
from loyalty.models import AppleRegistration, LoyaltyCard, OutboxMessage
from loyalty.services.customers import my_data as customer_data
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.points import earn_points
from loyalty.services.engine.stamps import add_stamp
from loyalty.services.wallets import sync as wallet_sync
from tests import factories
from tests.wallets.conftest import PASS_TYPE, apple_settings


class StandInAPNs:
    """HTTP/2 over TLS on a free port; the client must show a certificate our CA issued."""

    def __init__(self, files):
        self.pushes, self.statuses = [], {}
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH,
                                                  cafile=str(files["ca"]))
        self.context.load_cert_chain(str(files["server_cert"]), str(files["server_key"]))
        self.context.verify_mode = ssl.CERT_REQUIRED
        self.context.set_alpn_protocols(["h2"])
        import socket  # noqa: PLC0415

        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.running = True
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while self.running:
            try:
                raw, _address = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(raw,), daemon=True).start()

    def _connection(self, raw):
        try:
            sock = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        connection.initiate_connection()
        sock.sendall(connection.data_to_send())
        requests = {}
        with sock:
            while True:
                try:
                    data = sock.recv(65535)
                except OSError:
                    return
                if not data:
                    return
                for event in connection.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        requests[event.stream_id] = {k.decode() if isinstance(k, bytes) else k:
                                                     v.decode() if isinstance(v, bytes) else v
                                                     for k, v in event.headers}
                    elif isinstance(event, h2.events.DataReceived):
                        connection.acknowledge_received_data(event.flow_controlled_length,
                                                             event.stream_id)
                    elif isinstance(event, h2.events.StreamEnded):
                        headers = requests.pop(event.stream_id)
                        token = headers[":path"].rsplit("/", 1)[-1]
                        self.pushes.append((token, headers.get("apns-topic")))
                        status = self.statuses.get(token, 200)
                        connection.send_headers(event.stream_id, [(":status", str(status)),
                                                                  ("content-length", "0")],
                                                end_stream=True)
                sock.sendall(connection.data_to_send())

    def close(self):
        self.running = False
        self.listener.close()


@pytest.fixture
def apns(wallet_files):
    server = StandInAPNs(wallet_files)
    yield server
    server.close()


@pytest.fixture
def app(make_app, wallet_files, apns):
    app = make_app(**apple_settings(wallet_files), APPLE_APNS_URL=f"https://127.0.0.1:{apns.port}",
                   APPLE_APNS_CA_FILE=str(wallet_files["ca"]))
    with app.app_context():
        yield app


def test_each_registered_device_is_pushed_once_and_a_410_forgets_it(client, merchant, apns):
    factories.hybrid_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Pia Push", email="pia@example.com")
    db.session.commit()
    assert client.get(f"/card/{card.page_secret}/wallet.pkpass").status_code == 200
    db.session.commit()
    card = db.session.get(LoyaltyCard, card.id, populate_existing=True)
    auth = {"Authorization": f"ApplePass {card.apple_auth_token}"}
    for device, token in (("phone", "aaaa1111"), ("watch", "bbbb2222")):
        url = f"/wallet/apple/v1/devices/{device}/registrations/{PASS_TYPE}/{card.apple_serial_number}"
        assert client.post(url, json={"pushToken": token}, headers=auth).status_code == 201
    context = ActionContext(store_id=merchant.stores[0].id)

    add_stamp(card, context=context)
    assert sorted(apns.pushes) == [("aaaa1111", PASS_TYPE), ("bbbb2222", PASS_TYPE)]

    apns.statuses["bbbb2222"] = 410  # the watch removed the pass
    earn_points(card, 500, context=context)
    assert len(apns.pushes) == 4
    db.session.commit()
    left = db.session.scalars(select(AppleRegistration.push_token)).all()
    assert left == ["aaaa1111"]


def test_a_card_without_a_pass_asks_for_nothing(client, merchant, apns):
    factories.points_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Nils Nopass", email="nils@example.com")
    earn_points(card, 500, context=ActionContext(store_id=merchant.stores[0].id))
    assert apns.pushes == []


def test_the_hourly_sync_sends_again_what_a_failed_push_left_behind(client, merchant, apns):
    factories.points_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Ola Outage", email="ola@example.com")
    db.session.commit()
    client.get(f"/card/{card.page_secret}/wallet.pkpass")
    db.session.commit()
    card = db.session.get(LoyaltyCard, card.id, populate_existing=True)
    url = f"/wallet/apple/v1/devices/phone/registrations/{PASS_TYPE}/{card.apple_serial_number}"
    client.post(url, json={"pushToken": "cccc3333"},
                headers={"Authorization": f"ApplePass {card.apple_auth_token}"})
    apns.statuses["cccc3333"] = 503  # APNs is down: the update fails (and is recorded)
    earn_points(card, 500, context=ActionContext(store_id=merchant.stores[0].id))
    db.session.commit()
    failed = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "wallet"))
    assert failed.failed_at is not None and "503" in failed.last_error
    apns.statuses.clear()  # APNs is back
    pushes = len(apns.pushes)
    assert wallet_sync.sync_due() == 1  # the card is behind: asked again, pushed
    assert len(apns.pushes) == pushes + 1
    db.session.commit()
    assert wallet_sync.sync_due() == 0  # brought up to date: nothing left


def test_an_erased_card_voids_its_pass_and_forgets_its_devices(client, merchant, apns):
    factories.points_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Eve Erased", email="eve@example.com")
    db.session.commit()
    client.get(f"/card/{card.page_secret}/wallet.pkpass")
    db.session.commit()
    card = db.session.get(LoyaltyCard, card.id, populate_existing=True)
    serial, token = card.apple_serial_number, card.apple_auth_token
    url = f"/wallet/apple/v1/devices/phone/registrations/{PASS_TYPE}/{serial}"
    client.post(url, json={"pushToken": "dddd4444"}, headers={"Authorization": f"ApplePass {token}"})
    customer_data.erase(card)
    assert ("dddd4444", PASS_TYPE) in apns.pushes  # told to fetch its (now voided) pass
    listed = client.get(f"/wallet/apple/v1/devices/phone/registrations/{PASS_TYPE}").get_json()
    assert listed["serialNumbers"] == [serial]
    voided = client.get(f"/wallet/apple/v1/passes/{PASS_TYPE}/{serial}",
                        headers={"Authorization": f"ApplePass {token}"})
    data = json.loads(zipfile.ZipFile(io.BytesIO(voided.data)).read("pass.json"))
    assert data["voided"] is True and "barcodes" not in data
    assert "/card/" not in json.dumps(data)  # nothing left that opens the card
    wallet_sync.sync_due()
    db.session.commit()
    assert len(db.session.scalars(select(AppleRegistration)).all()) == 1  # a week to fetch it
    with clock.frozen_at(clock.now() + timedelta(days=8)):
        wallet_sync.sync_due()
    db.session.commit()
    assert db.session.scalars(select(AppleRegistration)).all() == []
