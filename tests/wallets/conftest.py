"""Wallet credentials made up for the tests: a WWDR-like CA, a pass certificate with the UID
and OU Apple puts in them, and a service-account key (nothing reaches Apple or Google)."""
import datetime
import ipaddress
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

PASS_TYPE, TEAM = "pass.lu.example.loyalty", "TEAM123456"


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="session")
def wallet_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wallet")
    now = datetime.datetime.now(datetime.UTC)
    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test WWDR CA"),
                         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "G4"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Apple")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(1)
          .not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    pass_key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.USER_ID, PASS_TYPE),
                         x509.NameAttribute(NameOID.COMMON_NAME, f"Pass Type ID: {PASS_TYPE}"),
                         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, TEAM)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name)
            .public_key(pass_key.public_key()).serial_number(2)
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .sign(ca_key, hashes.SHA256()))
    server_key = _key()
    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
              .issuer_name(ca_name).public_key(server_key.public_key()).serial_number(3)
              .not_valid_before(now - datetime.timedelta(days=1))
              .not_valid_after(now + datetime.timedelta(days=30))
              .add_extension(x509.SubjectAlternativeName(
                  [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
              .sign(ca_key, hashes.SHA256()))
    files = {"ca": folder / "wwdr.pem", "server_cert": folder / "apns.pem",
             "server_key": folder / "apns-key.pem", "cert": folder / "pass.pem", "key": folder / "pass-key.pem",
             "service_account": folder / "service-account.json"}
    files["ca"].write_bytes(_pem(ca))
    files["server_cert"].write_bytes(_pem(server))
    files["server_key"].write_bytes(server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    files["cert"].write_bytes(_pem(cert))
    files["key"].write_bytes(pass_key.private_bytes(serialization.Encoding.PEM,
                                                    serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    google_key = _key()
    files["service_account"].write_text(json.dumps({
        "type": "service_account", "client_email": "wallet@test-project.iam.gserviceaccount.com",
        "private_key_id": "test-key", "token_uri": "http://127.0.0.1:9/token",
        "private_key": google_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode()}))
    files["google_public"] = google_key.public_key()
    return files


def apple_settings(files):
    return {"APPLE_PASS_TYPE_ID": PASS_TYPE, "APPLE_TEAM_ID": TEAM,
            "APPLE_PASS_CERT_FILE": str(files["cert"]), "APPLE_PASS_KEY_FILE": str(files["key"]),
            "APPLE_WWDR_CERT_FILE": str(files["ca"])}


@pytest.fixture
def app(make_app, wallet_files):
    """The app with Apple Wallet configured (the wallet tests' default)."""
    app = make_app(**apple_settings(wallet_files))
    with app.app_context():
        yield app
