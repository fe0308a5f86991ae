"""Google Wallet (walletobjects v1): a LoyaltyClass per program, a LoyaltyObject per card,
and the "Add to Google Wallet" link (a save JWT signed with the service account's key).

The API base URL and the token URI (in the service account's JSON key) are configuration:
the tests point them at a local stand-in.
"""
import time

from flask import current_app
from google.auth import crypt, jwt
from google.auth.exceptions import GoogleAuthError
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account
from requests import RequestException
from sqlalchemy import update

from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.links import card_url, external_url
from loyalty.models import LoyaltyCard, LoyaltyProgram, Merchant
from loyalty.services.merchant_cache import merchant_rows
from loyalty.services.merchant_texts import text_for
from loyalty.services.wallets import google_service_account

SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
SAVE_URL = "https://pay.google.com/gp/v/save/"
TIMEOUT = 15


class WalletApiError(Exception):
    """Google answered something else than expected; the message says what."""


def _session():
    credentials = service_account.Credentials.from_service_account_info(
        google_service_account(), scopes=[SCOPE])
    return AuthorizedSession(credentials)


def _url(path):
    return f"{current_app.config['GOOGLE_WALLET_API_URL']}/{path}"


def class_id(program):
    return f"{current_app.config['GOOGLE_WALLET_ISSUER_ID']}.program-{program.id}"


def object_id(card):
    return f"{current_app.config['GOOGLE_WALLET_ISSUER_ID']}.card-{card.id}"


def class_body(program, merchant):
    locale = merchant.default_locale
    body = {
        "id": class_id(program), "issuerName": merchant.name,
        "programName": text_for(program, "card_name", locale),
        "reviewStatus": "UNDER_REVIEW", "hexBackgroundColor": program.primary_color,
        "programLogo": {"sourceUri": {"uri": _absolute(program.logo_url) or
                                     external_url("static", filename="favicon.svg")}},
    }
    if program.hero_image_url:
        body["heroImage"] = {"sourceUri": {"uri": _absolute(program.hero_image_url)}}
    terms = text_for(program, "terms_text", locale)
    if terms:
        body["textModulesData"] = [{"id": "terms", "header": "Terms", "body": terms[:1000]}]
    if program.privacy_url:
        body["linksModuleData"] = {"uris": [{"uri": program.privacy_url, "id": "privacy",
                                             "description": "Privacy"}]}
    return body


def _absolute(path):
    if not path:
        return None
    return path if path.startswith("http") else current_app.config["PUBLIC_BASE_URL"] + path


def object_body(card, program):
    body = {
        "id": object_id(card), "classId": class_id(program),
        "state": "ACTIVE" if card.is_active and card.customer.erased_at is None else "INACTIVE",
        "accountId": card.card_number, "accountName": card.customer.name or card.card_number,
        "barcode": {"type": "QR_CODE", "value": card.qr_token,
                    "alternateText": card.card_number},
        "linksModuleData": {"uris": [{"uri": card_url(card), "id": "card",
                                      "description": "Card"}]},
    }
    if program.has_points:
        body["loyaltyPoints"] = {"label": "Points", "balance": {"int": card.points_balance}}
    if program.has_stamps:
        stamps = {"label": "Stamps", "balance": {"int": card.stamp_count}}
        body["secondaryLoyaltyPoints" if program.has_points else "loyaltyPoints"] = stamps
    return body


def _call(session, method, path, *expected, **kwargs):
    """One API call; anything but an ``expected`` status (or no answer) is WalletApiError."""
    try:
        response = session.request(method, _url(path), timeout=TIMEOUT, **kwargs)
    except (RequestException, GoogleAuthError) as error:
        raise WalletApiError(f"{method} {path}: {error}") from error
    if response.status_code not in expected:
        raise WalletApiError(f"{method} {path}: {response.status_code} {response.text[:300]}")
    return response


def _upsert(session, kind, identifier, body):
    """GET the resource; POST it on 404, else PATCH it with ``body``. Returns Google's copy."""
    found = _call(session, "GET", f"{kind}/{identifier}", 200, 404)
    if found.status_code == 404:
        return _call(session, "POST", kind, 200, json=body).json()
    return _call(session, "PATCH", f"{kind}/{identifier}", 200, json=body).json()


def upsert_class(program, session=None):
    """Create or update the program's class; its review status is kept on the program."""
    merchant = db.session.get(Merchant, program.merchant_id)
    answer = _upsert(session or _session(), "loyaltyClass", class_id(program),
                     class_body(program, merchant))
    with write_transaction():
        db.session.execute(update(LoyaltyProgram).where(LoyaltyProgram.id == program.id)
                           .values(google_class_id=class_id(program),
                                   google_review_status=str(answer.get("reviewStatus")
                                                            or "UNDER_REVIEW")[:20]))


def save_link(card):
    """Create (or refresh) the program's class and the card's object, then the save link."""
    program = merchant_rows(card.merchant_id).program
    session = _session()
    upsert_class(program, session)
    _upsert(session, "loyaltyObject", object_id(card), object_body(card, program))
    if card.google_object_id != object_id(card):
        with write_transaction():
            db.session.execute(update(LoyaltyCard).where(LoyaltyCard.id == card.id)
                               .values(google_object_id=object_id(card)))
    info = google_service_account()
    claims = {"iss": info["client_email"], "aud": "google", "typ": "savetowallet",
              "iat": int(time.time()), "origins": [current_app.config["PUBLIC_BASE_URL"]],
              "payload": {"loyaltyObjects": [{"id": object_id(card)}]}}
    token = jwt.encode(crypt.RSASigner.from_service_account_info(info), claims)
    return SAVE_URL + token.decode("ascii")


def prepared_object(card):
    """The card's object as it should be now (read inside a transaction, sent after it)."""
    return object_body(card, merchant_rows(card.merchant_id).program)


def patch_object(body, message=None):
    """PATCH an object (balances, state): a saved pass refreshes without a push. ``message``
    (header, body, notify) is added to it too: shown on the pass, and notifying the phone
    when ``notify`` (the caller keeps to Google's 3 per pass per 24 hours)."""
    session = _session()
    _call(session, "PATCH", f"loyaltyObject/{body['id']}", 200, json=body)
    if message is not None:
        header, text, notify = message
        _call(session, "POST", f"loyaltyObject/{body['id']}/addMessage", 200, json={"message": {
            "header": header[:100], "body": text[:500],
            "messageType": "TEXT_AND_NOTIFY" if notify else "TEXT"}})


def sync_object(card):
    """PATCH the card's object with what it shows now."""
    patch_object(prepared_object(card))
