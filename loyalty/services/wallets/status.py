"""Which wallets are configured, their credentials, and what the admin status page checks.

Apple is on when its five required settings are present, Google when its two are. Nothing
here raises for a missing or broken setting: the card page then shows no button, and the
status page says what is wrong.
"""
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)
from cryptography.x509.oid import NameOID
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from loyalty.extensions import db
from loyalty.links import public_base_url
from loyalty.models import AppleRegistration, LoyaltyCard, LoyaltyProgram

APPLE_REQUIRED = ("APPLE_PASS_TYPE_ID", "APPLE_TEAM_ID", "APPLE_PASS_CERT_FILE",
                  "APPLE_PASS_KEY_FILE", "APPLE_WWDR_CERT_FILE")
GOOGLE_REQUIRED = ("GOOGLE_WALLET_ISSUER_ID", "GOOGLE_WALLET_SERVICE_ACCOUNT_FILE")
EXPIRY_WARNING = timedelta(days=30)


def _missing(names):
    return [name for name in names if not current_app.config.get(name)]


def apple_enabled():
    return not _missing(APPLE_REQUIRED)


def google_enabled():
    return not _missing(GOOGLE_REQUIRED)


def configured():
    """{"apple": bool, "google": bool}: which buttons the card page shows."""
    return {"apple": apple_enabled(), "google": google_enabled()}


@dataclass(frozen=True)
class AppleCredentials:
    certificate: x509.Certificate
    key: object
    wwdr: x509.Certificate


@lru_cache(maxsize=4)
def _load_apple(cert_file, key_file, password, wwdr_file):
    with open(cert_file, "rb") as file:
        certificate = x509.load_pem_x509_certificate(file.read())
    with open(key_file, "rb") as file:
        key = load_pem_private_key(file.read(), password.encode() if password else None)
    with open(wwdr_file, "rb") as file:
        wwdr = x509.load_pem_x509_certificate(file.read())
    return AppleCredentials(certificate, key, wwdr)


def apple_credentials():
    """The pass certificate, its key and Apple's WWDR intermediate (read once per worker)."""
    config = current_app.config
    return _load_apple(config["APPLE_PASS_CERT_FILE"], config["APPLE_PASS_KEY_FILE"],
                       config["APPLE_PASS_KEY_PASSWORD"], config["APPLE_WWDR_CERT_FILE"])


def _name_value(name, oid):
    values = name.get_attributes_for_oid(oid)
    return values[0].value if values else None


@dataclass
class AppleStatus:
    configured: bool
    missing: list = field(default_factory=list)
    problems: list = field(default_factory=list)  # (level, message) with level error/warning
    subject: str | None = None
    expires: datetime | None = None


def apple_status(now=None):
    """The admin status page's Apple checks: settings present, files readable, the
    certificate's UID and OU equal to the pass type and team, expiry (warning under 30 days),
    and a WWDR G4 intermediate that issued it."""
    now = now or datetime.now(UTC)
    status = AppleStatus(configured=apple_enabled(), missing=_missing(APPLE_REQUIRED))
    if not status.configured:
        return status
    config = current_app.config
    try:
        credentials = apple_credentials()
    except (OSError, ValueError, TypeError) as error:
        status.problems.append(("error", _("The certificate or key cannot be read: %(error)s",
                                           error=error)))
        return status
    certificate = credentials.certificate
    status.subject = certificate.subject.rfc4514_string()
    status.expires = certificate.not_valid_after_utc
    if _name_value(certificate.subject, NameOID.USER_ID) != config["APPLE_PASS_TYPE_ID"]:
        status.problems.append(("error", _("The certificate is not for the pass type "
                                           "APPLE_PASS_TYPE_ID names.")))
    if _name_value(certificate.subject, NameOID.ORGANIZATIONAL_UNIT_NAME) != \
            config["APPLE_TEAM_ID"]:
        status.problems.append(("error", _("The certificate is not for the team APPLE_TEAM_ID "
                                           "names.")))
    if status.expires <= now:
        status.problems.append(("error", _("The pass certificate has expired.")))
    elif status.expires - now < EXPIRY_WARNING:
        status.problems.append(("warning", _("The pass certificate expires in less than 30 "
                                             "days: renew it.")))
    if "G4" not in (_name_value(credentials.wwdr.subject, NameOID.ORGANIZATIONAL_UNIT_NAME)
                    or ""):
        status.problems.append(("warning", _("The intermediate certificate is not Apple's "
                                             "WWDR G4.")))
    if certificate.issuer != credentials.wwdr.subject:
        status.problems.append(("error", _("The intermediate certificate did not issue the pass "
                                           "certificate.")))
    if not public_base_url().startswith("https://"):
        status.problems.append(("warning", _("Wallet only calls web services over HTTPS: set "
                                             "PUBLIC_BASE_URL to the site's https:// address, "
                                             "or passes never update.")))
    if _public_der(certificate.public_key()) != _public_der(credentials.key.public_key()):
        status.problems.append(("error", _("The key does not belong to the certificate.")))
    return status


def _public_der(public_key):
    return public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


@lru_cache(maxsize=4)
def _service_account(path):
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def google_service_account():
    """The service account's JSON key (its ``token_uri`` is used as given)."""
    return _service_account(current_app.config["GOOGLE_WALLET_SERVICE_ACCOUNT_FILE"])


@dataclass
class GoogleStatus:
    configured: bool
    missing: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    issuer_id: str | None = None
    account: str | None = None


def google_status():
    status = GoogleStatus(configured=google_enabled(), missing=_missing(GOOGLE_REQUIRED),
                          issuer_id=current_app.config["GOOGLE_WALLET_ISSUER_ID"])
    if not status.configured:
        return status
    try:
        info = google_service_account()
        status.account = info["client_email"]
        if not info.get("private_key") or not info.get("token_uri"):
            raise KeyError("private_key")
    except (OSError, ValueError, KeyError) as error:
        status.problems.append(("error", _("The service account key cannot be read: %(error)s",
                                           error=error)))
    return status


def counts():
    """Apple passes, registered devices and Google objects (one statement)."""
    C = LoyaltyCard
    return db.session.execute(select(
        select(func.count()).select_from(C).where(C.apple_serial_number.is_not(None))
        .scalar_subquery().label("apple_passes"),
        select(func.count(AppleRegistration.id)).scalar_subquery().label("devices"),
        select(func.count()).select_from(C).where(C.google_object_id.is_not(None))
        .scalar_subquery().label("google_objects"))).one()._asdict()


def review_statuses():
    """{Google's review status: programs} of the programs that have a class."""
    return dict(db.session.execute(
        select(LoyaltyProgram.google_review_status, func.count())
        .where(LoyaltyProgram.google_class_id.is_not(None))
        .group_by(LoyaltyProgram.google_review_status)).all())
