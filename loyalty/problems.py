"""RFC 9457 problem details: how the machine side (``/api/``) says no.

Every refusal there is ``application/problem+json`` with a stable ``type`` (a URN that names
the kind of problem, for code to branch on), a ``title`` and a ``detail`` in the caller's
language (``Accept-Language``), the HTTP ``status`` and, for invalid input, the fields
(``errors``: ``[{"field": "amount", "message": ...}]``). Pages keep their HTML error pages;
this module only decides the shape.
"""
import json

from flask import current_app, request
from flask_babel import gettext as _

MEDIA_TYPE = "application/problem+json"
API_PREFIX = "/api/"
TYPE_PREFIX = "urn:loyalty:problem:"

#: status -> the problem type's slug when nothing more precise is known.
SLUGS = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
         405: "method-not-allowed", 409: "conflict", 413: "body-too-large",
         415: "unsupported-media-type", 422: "invalid-request", 429: "rate-limited",
         500: "server-error", 503: "unavailable"}


def titles():
    """The title of each status, in the caller's language."""
    return {
        400: _("Request not understood"), 401: _("API key missing or not valid"),
        403: _("Not allowed"), 404: _("Not found"), 405: _("Method not allowed"),
        409: _("Refused"), 413: _("Body too large"), 415: _("Unsupported media type"),
        422: _("Invalid request"), 429: _("Too many requests"), 500: _("Server error"),
        503: _("Service unavailable"),
    }


def is_api_request():
    return request.path.startswith(API_PREFIX)


def problem_body(status, detail, *, slug=None, title=None, errors=None):
    body = {
        "type": TYPE_PREFIX + (slug or SLUGS.get(status, "error")),
        "title": title or titles().get(status, _("Error")),
        "status": status,
        "detail": str(detail),
    }
    if errors:
        body["errors"] = errors
    return body


def problem(status, detail, *, slug=None, title=None, errors=None, headers=None):
    """A problem+json response."""
    response = current_app.response_class(
        json.dumps(problem_body(status, detail, slug=slug, title=title, errors=errors),
                   ensure_ascii=False),
        status=status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
