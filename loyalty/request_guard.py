"""What the HTML routes accept, decided once for every request before any view reads it.

A body must be form-encoded; multipart only reaches the views marked ``@accepts_upload``.
Anything else (JSON, XML, plain text) is refused with 415: Flask-WTF would read a JSON body as
form data and hand numbers, lists and objects to fields that expect text. A NUL byte anywhere
in the query string or the form (names or values) is refused with 400: PostgreSQL cannot store
one, and no text a person types contains one.
"""
from flask import abort, current_app, request

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def accepts_upload(view):
    """Mark a view whose form takes a file: it may be posted as multipart/form-data."""
    view.accepts_upload = True
    return view


def accepts_json(view):
    """Mark a view of a JSON API (the PassKit web service): it may be posted JSON."""
    view.accepts_json = True
    return view


def _has_body():
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "")


def refuse_unexpected_bodies():
    if request.method not in BODY_METHODS or request.endpoint is None:
        return  # nothing to read, or routing already failed (404/405 follow)
    view = current_app.view_functions[request.endpoint]
    allowed = (FORM, MULTIPART) if getattr(view, "accepts_upload", False) else (FORM,)
    if getattr(view, "accepts_json", False):
        allowed = ("application/json",)
    if request.mimetype in allowed or (not request.mimetype and not _has_body()):
        return
    abort(415)


def _has_nul(multidict):
    return any("\x00" in key or (isinstance(value, str) and "\x00" in value)
               for key, value in multidict.items(multi=True))


def refuse_nul_bytes():
    if _has_nul(request.args) or (request.method in BODY_METHODS and _has_nul(request.form)):
        abort(400)


def register(app):
    app.before_request(refuse_unexpected_bodies)
    app.before_request(refuse_nul_bytes)
