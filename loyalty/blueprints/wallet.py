"""The wallets' side of the site: Apple's PassKit web service (``/wallet/apple/v1/...``),
called by phones, not people: JSON in, status codes out, no sessions or CSRF. Every call is
counted against its address first; a JSON body reaches a view only within the bounds that
``request_guard`` sets, and a refusal is JSON: ``{"error": message}``."""
import logging

from flask import Blueprint, Response, abort, jsonify, request
from flask_babel import gettext as _

from loyalty.extensions import csrf
from loyalty.request_guard import accepts_json, has_body, json_refusal
from loyalty.services.wallets import apple_pass, passkit
from loyalty.services.wallets import status as wallets
from loyalty.throttle import TooManyAttempts, spend, wallet_budgets

bp = Blueprint("wallet", __name__, url_prefix="/wallet/apple/v1")
csrf.exempt(bp)  # phones call it with the pass's own token, never a browser session
log = logging.getLogger(__name__)
DEVICE = "/devices/<device>/registrations/<pass_type>"


@bp.before_request
def _guard():
    if not wallets.apple_enabled():
        abort(404)
    try:
        spend(wallet_budgets(request.remote_addr))
    except TooManyAttempts as limit:
        response = Response(status=429)
        response.headers["Retry-After"] = str(int(limit.retry_after))
        abort(response)
    if not passkit.IDENTIFIER.match((request.view_args or {}).get("device", "x")):
        abort(404)


def _card():
    try:
        return passkit.authorized_card(request.view_args["pass_type"], request.view_args["serial"],
                                       request.headers.get("Authorization"))
    except passkit.Unauthorized:
        abort(401)


@bp.post(f"{DEVICE}/<serial>")
@accepts_json
def register(device, pass_type, serial):
    card = _card()
    body = request.get_json()
    token = body.get("pushToken") if isinstance(body, dict) else None
    if not isinstance(token, str) or not passkit.PUSH_TOKEN.match(token):
        return json_refusal(400, _("pushToken is missing or not a push token."))
    created = passkit.register(card, device, token)
    return Response(status=201 if created else 200)


@bp.delete(f"{DEVICE}/<serial>")
@accepts_json
def unregister(device, pass_type, serial):
    card = _card()
    if has_body() and request.get_json() != {}:  # Apple sends none
        return json_refusal(400, _("This call takes no body."))
    passkit.unregister(card, device)
    return Response(status=200)


@bp.get(DEVICE)
def updated(device, pass_type):
    serials, tag = passkit.updated_serials(device, pass_type,
                                           request.args.get("passesUpdatedSince"))
    if not serials:
        return Response(status=204)
    return jsonify(serialNumbers=serials, lastUpdated=tag)


@bp.get("/passes/<pass_type>/<serial>")
def latest(pass_type, serial):
    card = _card()
    modified = apple_pass.pass_modified(card)
    if request.if_modified_since is not None and modified <= request.if_modified_since:
        return Response(status=304)  # unchanged: not built or signed again
    try:
        data, modified = apple_pass.build(card)
    except apple_pass.PassUnavailable:
        return Response(status=503)
    response = Response(data, mimetype=apple_pass.MEDIA_TYPE)
    response.last_modified = modified
    response.cache_control.no_cache = True
    return response


@bp.post("/log")
@accepts_json
def device_log():
    """Anyone may call it (Apple's protocol): it only writes a few short lines to our log."""
    messages = passkit.device_log_messages(request.get_json())
    if messages is None:
        return json_refusal(400, _("The body must be {\"logs\": [text, ...]}."))
    for message in messages:
        log.warning("Wallet device log: %s", message)
    return Response(status=200)


