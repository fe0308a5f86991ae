"""``/api/v1``: the machine side, for tills, web shops and a shop's own site.

JSON in and out over the same services as the counter; an API key (``Authorization: Bearer``)
instead of a session and a staff PIN. Every call but the public ones needs a live key: its
merchant is the only one whose records exist for it (another's are "not found"), its scopes
say what it may do (403), and its requests count against a per-key budget (429, with the
``RateLimit`` headers on every answer). Refusals are problem+json (``loyalty/problems.py``) in
the language of ``Accept-Language``. ``spec.py`` holds the schemas' machinery; one module per
resource holds its endpoints.
"""
from flask import Blueprint, current_app, g, request
from flask_babel import gettext as _

from loyalty import problems, throttle
from loyalty.extensions import csrf
from loyalty.services.integrations import api_keys

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookies, no session: the key in the header is the credential
CORS_HEADERS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET",
                "Access-Control-Max-Age": "86400"}


def _view():
    return current_app.view_functions.get(request.endpoint)


def _bearer():
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


@bp.before_request
def _authenticate():
    g.page_locale = request.accept_languages.best_match(current_app.config["LANGUAGES"]) or "en"
    view = _view()
    if view is None or getattr(view, "public_api", False):
        return None
    caller = api_keys.authenticate(_bearer())
    if caller is None:
        return problems.problem(
            401, _("Send a valid API key: Authorization: Bearer <key>. Create one under "
                   "Settings > Integrations."),
            headers={"WWW-Authenticate": 'Bearer realm="loyalty"'})
    g.caller = caller
    g.merchant_version = (caller.merchant_id, caller.merchant_version)
    quota = throttle.count_request(throttle.api_budget(caller.key_id))
    g.quota = quota
    if not quota.granted:
        return problems.problem(
            429, _("Too many requests for this API key. Wait %(seconds)s s, then try again.",
                   seconds=quota.reset),
            headers={"Retry-After": str(quota.reset)})
    return None


@bp.after_request
def _headers(response):
    quota = g.get("quota")
    if quota is not None:
        response.headers["RateLimit-Policy"] = f'"per-key";q={quota.limit};w=1'
        response.headers["RateLimit"] = f'"per-key";r={quota.remaining};t={quota.reset}'
    view = _view()
    if view is not None and getattr(view, "public_api", False):
        response.headers.update(CORS_HEADERS)
    response.headers.add("Vary", "Accept-Language")
    return response
