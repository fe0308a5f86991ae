"""Google Wallet (walletobjects v1): a LoyaltyClass per program, a LoyaltyObject per card,
and the "Add to Google Wallet" link (a save JWT signed with the service account's key).

The API base URL and the token URI (in the service account's JSON key) are configuration:
the tests point them at a local stand-in.
"""
import logging
import time

from flask import current_app
from flask_babel import force_locale, gettext
from google.auth import crypt, jwt
from google.auth.exceptions import GoogleAuthError
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account
from requests import RequestException
from sqlalchemy import bindparam, func, or_, select, update

from loyalty import metrics
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.links import card_url, external_url, public_base_url
from loyalty.models import LoyaltyCard, LoyaltyProgram, Merchant
from loyalty.services.engine.merchant_cache import merchant_rows
from loyalty.services.merchant.texts import text_for
from loyalty.services.wallets.status import google_service_account

log = logging.getLogger(__name__)
SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
SAVE_URL = "https://pay.google.com/gp/v/save/"
TIMEOUT = 15
#: Where Google's review of a class ends; a class in any other status is asked about again.
REVIEW_DONE = ("APPROVED", "REJECTED")
#: Classes asked about per run, the longest waiting first.
REVIEWS_PER_RUN = 20  # a slow Google (15 s a call) keeps the hourly job within minutes


class WalletApiError(Exception):
    """Google answered something else than expected; the message says what."""


_sessions = {}


def _session():
    """The service account's session (one per worker: its token is reused until it expires)."""
    path = current_app.config["GOOGLE_WALLET_SERVICE_ACCOUNT_FILE"]
    if path not in _sessions:
        try:
            credentials = service_account.Credentials.from_service_account_info(
                google_service_account(), scopes=[SCOPE])
        except (OSError, ValueError, KeyError) as error:
            raise WalletApiError(f"service account key: {error}") from error
        _sessions[path] = AuthorizedSession(credentials)
    return _sessions[path]


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
    with force_locale(locale):
        terms_label, privacy_label = gettext("Terms"), gettext("Privacy policy")
    terms = text_for(program, "terms_text", locale)
    if terms:
        body["textModulesData"] = [{"id": "terms", "header": terms_label, "body": terms[:1000]}]
    if program.privacy_url:
        body["linksModuleData"] = {"uris": [{"uri": program.privacy_url, "id": "privacy",
                                             "description": privacy_label}]}
    return body


def _absolute(path):
    if not path:
        return None
    return path if path.startswith("http") else public_base_url() + path


def object_body(card, program, locale=None):
    """The card's object; an erased customer's is INACTIVE with nothing but its ids."""
    base = {"id": object_id(card), "classId": class_id(program)}
    if card.customer.erased_at is not None:
        return {**base, "state": "INACTIVE"}
    with force_locale(locale or "en"):
        points_label, stamps_label = gettext("Points"), gettext("Stamps")
        link_label = gettext("Your card online")
    body = {
        **base, "state": "ACTIVE" if card.is_active else "INACTIVE",
        "accountId": card.card_number, "accountName": card.customer.name or card.card_number,
        "barcode": {"type": "QR_CODE", "value": card.qr_token,
                    "alternateText": card.card_number},
        "linksModuleData": {"uris": [{"uri": card_url(card), "id": "card",
                                      "description": link_label}]},
    }
    if program.has_points:
        body["loyaltyPoints"] = {"label": points_label, "balance": {"int": card.points_balance}}
    if program.has_stamps:
        stamps = {"label": stamps_label, "balance": {"int": card.stamp_count}}
        body["secondaryLoyaltyPoints" if program.has_points else "loyaltyPoints"] = stamps
    return body


def _call(session, method, path, *expected, **kwargs):
    """One API call; anything but an ``expected`` status (or no answer) is WalletApiError."""
    try:
        response = session.request(method, _url(path), timeout=TIMEOUT, **kwargs)
    except (RequestException, GoogleAuthError) as error:
        metrics.WALLET_FAILURES.labels("google", "unavailable").inc()
        raise WalletApiError(f"{method} {path}: {error}") from error
    if response.status_code not in expected:
        metrics.WALLET_FAILURES.labels("google", "refused").inc()
        raise WalletApiError(f"{method} {path}: {response.status_code} {response.text[:300]}")
    return response


def _json(response):
    try:
        return response.json()
    except ValueError as error:
        raise WalletApiError(f"not JSON: {response.text[:200]}") from error


def _upsert(session, kind, identifier, body):
    """GET the resource; POST it on 404, else PATCH it with ``body``. Returns Google's copy."""
    found = _call(session, "GET", f"{kind}/{identifier}", 200, 404)
    if found.status_code == 404:
        return _json(_call(session, "POST", kind, 200, json=body))
    return _json(_call(session, "PATCH", f"{kind}/{identifier}", 200, json=body))


def upsert_class(program, session=None):
    """Create or update the program's class; its review status is kept on the program."""
    merchant = db.session.get(Merchant, program.merchant_id)
    answer = _upsert(session or _session(), "loyaltyClass", class_id(program),
                     class_body(program, merchant))
    status = str(answer.get("reviewStatus") or "UNDER_REVIEW")[:20]
    if (program.google_class_id, program.google_review_status) != (class_id(program), status):
        with write_transaction():  # the table, not the model: no merchant's cache moves
            db.session.execute(update(LoyaltyProgram.__table__)
                               .where(LoyaltyProgram.id == program.id)
                               .values(google_class_id=class_id(program),
                                       google_review_status=status))


def refresh_reviews(limit=REVIEWS_PER_RUN):
    """Ask Google how the review of each class still under review went (any status but
    approved or rejected), and keep what it answers: one GET per such class, one UPDATE for
    all. A class Google does not answer about keeps its status until the next run. Returns
    {program id: new status} for the classes whose status changed."""
    P = LoyaltyProgram
    waiting = db.session.execute(
        select(P.id, P.google_class_id, P.google_review_status)
        .where(P.google_class_id.is_not(None),
               or_(P.google_review_status.is_(None),
                   func.upper(P.google_review_status).not_in(REVIEW_DONE)))
        .order_by(P.id).limit(limit)).all()
    db.session.commit()  # no transaction stays open while Google answers
    if not waiting:
        return {}
    changed = {}
    try:
        session = _session()
        for program_id, identifier, status in waiting:
            try:
                answer = _json(_call(session, "GET", f"loyaltyClass/{identifier}", 200))
            except WalletApiError as error:
                log.warning("review status of class %s not known: %s", identifier, error)
                continue
            new = str(answer.get("reviewStatus") or status or "")[:20] or None
            if new != status:
                changed[program_id] = new
    except WalletApiError as error:  # no session: the key is wrong; the status page says so
        log.warning("review statuses not asked: %s", error)
    if changed:
        table = LoyaltyProgram.__table__
        with write_transaction():  # the table, not the model: no merchant's cache moves
            db.session.execute(
                update(table).where(table.c.id == bindparam("program_id"))
                .values(google_review_status=bindparam("status")),
                [{"program_id": program_id, "status": status}
                 for program_id, status in changed.items()])
    return changed


def save_link(card):
    """Create (or refresh) the program's class and the card's object, then the save link."""
    program = merchant_rows(card.merchant_id).program
    session = _session()
    if program.google_class_id is None:  # later changes reach it through program_changed
        upsert_class(program, session)
    locale = card.customer.preferred_locale or \
        db.session.get(Merchant, card.merchant_id).default_locale
    _upsert(session, "loyaltyObject", object_id(card), object_body(card, program, locale))
    if card.google_object_id != object_id(card):
        with write_transaction():
            db.session.execute(update(LoyaltyCard.__table__).where(LoyaltyCard.id == card.id)
                               .values(google_object_id=object_id(card)))
    info = google_service_account()
    claims = {"iss": info["client_email"], "aud": "google", "typ": "savetowallet",
              "iat": int(time.time()), "origins": [public_base_url()],
              "payload": {"loyaltyObjects": [{"id": object_id(card)}]}}
    token = jwt.encode(crypt.RSASigner.from_service_account_info(info), claims)
    return SAVE_URL + token.decode("ascii")


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
