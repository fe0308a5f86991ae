"""What the routes accept, decided once for every request before any view reads it.

A body must be form-encoded; multipart only reaches the views marked ``@accepts_upload``.
Anything else (JSON, XML, plain text) is refused with 415: Flask-WTF would read a JSON body as
form data and hand numbers, lists and objects to fields that expect text. A NUL byte anywhere
in the query string or the form (names or values) is refused with 400: PostgreSQL cannot store
one, and no text a person types contains one.

The views marked ``@accepts_json`` (the PassKit web service, called by anyone without a
session) take JSON only: another type is refused with 415 and a body over ``JSON_MAX_BYTES``
with 413 before anything reads it. ``request.get_json()``, everywhere in the app, parses
within bounds (``GuardedRequest``): nested at most ``JSON_MAX_DEPTH`` deep (checked before it
is parsed, so 50,000 brackets cost a few linear passes, not a recursion), numbers that fit
(no NaN, no infinity, no integer of hundreds of digits), no NUL character; anything else is
refused with 400. Those refusals are JSON: ``{"error": message}``. The body is parsed when
the view reads it, so the view's blueprint counts the call first (rate limits).
"""
import json
import math
import re

from flask import Request, abort, current_app, jsonify, request
from flask_babel import gettext as _

from loyalty import problems

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
JSON = "application/json"
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
#: Far above what a phone sends the PassKit web service (a push token; a few log lines).
JSON_MAX_BYTES = 64 * 1024
JSON_MAX_DEPTH = 32
#: No id, count or amount has more digits; Python would read 4,300.
JSON_MAX_DIGITS = 18
JSON_ESCAPE = re.compile(r"\\.", re.DOTALL)
JSON_STRING = re.compile(r'"[^"]*"')
NOT_A_BRACKET = re.compile(r"[^\[\]{}]")
OBJECTS_AS_ARRAYS = str.maketrans("{}", "[]")


def accepts_upload(view):
    """Mark a view whose form takes a file: it may be posted as multipart/form-data."""
    view.accepts_upload = True
    return view


def accepts_json(view):
    """Mark a view of a JSON API (the PassKit web service): it may be posted JSON."""
    view.accepts_json = True
    return view


def has_body():
    """Whether the request carries a body (a length, or chunks)."""
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "")


class JSONRefused(ValueError):
    """A JSON body outside the bounds; ``message`` says which, ``status`` is the answer's."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.message, self.status = message, status


def json_refusal(status, message):
    """The answer of a JSON route that refuses its request: ``{"error": message}``, or a
    problem+json under ``/api/`` (``problems``)."""
    if problems.is_api_request():
        return problems.problem(status, message)
    response = jsonify(error=str(message))
    response.status_code = status
    return response


def _too_deep(text):
    """Whether ``text`` nests arrays and objects deeper than ``JSON_MAX_DEPTH`` (brackets in
    strings do not count). Linear passes that run in C: escapes and strings out, brackets
    only, then the innermost pairs taken out ``JSON_MAX_DEPTH`` times; a pair still standing
    was deeper, and so is a run of more openers than that left without their closers. What
    passes nests less than twice ``JSON_MAX_DEPTH`` even unbalanced, far from the parser's
    recursion limit, and is then refused as not JSON."""
    brackets = NOT_A_BRACKET.sub("", JSON_STRING.sub("", JSON_ESCAPE.sub("", text)))
    brackets = brackets.translate(OBJECTS_AS_ARRAYS)
    for _level in range(JSON_MAX_DEPTH):
        inner_taken_out = brackets.replace("[]", "")
        if inner_taken_out == brackets:
            break
        brackets = inner_taken_out
    return "[]" in brackets or brackets.count("[") > JSON_MAX_DEPTH


def _out_of_range():
    return JSONRefused(_("A number in the body is out of range."))


def _integer(digits):
    if len(digits.lstrip("-")) > JSON_MAX_DIGITS:
        raise _out_of_range()
    return int(digits)


def _real(text):
    value = float(text)
    if not math.isfinite(value):  # 1e400 reads as infinity
        raise _out_of_range()
    return value


def _refuse_constant(_name):
    raise _out_of_range()  # NaN, Infinity, -Infinity


def _has_nul_text(value):
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, str) and "\x00" in item:
            return True
        if isinstance(item, dict):
            todo.extend(item.keys())
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
    return False


def parse_json(data):
    """The value of the JSON document ``data`` (bytes or text), or ``JSONRefused`` saying
    what is wrong with it: too large, not UTF-8 JSON, nested too deep, a number out of range,
    a NUL character."""
    if len(data) > JSON_MAX_BYTES:
        raise JSONRefused(_("The body is too large for this call."), 413)
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise JSONRefused(_("The body is not valid JSON.")) from None
    if _too_deep(text):
        raise JSONRefused(_("The body is nested too deeply."))
    try:
        value = json.loads(text, parse_int=_integer, parse_float=_real,
                           parse_constant=_refuse_constant)
    except JSONRefused:
        raise
    except ValueError:
        raise JSONRefused(_("The body is not valid JSON.")) from None
    if _has_nul_text(value):
        raise JSONRefused(_("The body holds a NUL character."))
    return value


class _BoundedJSON:
    """What ``request.get_json()`` parses with."""

    loads = staticmethod(parse_json)
    dumps = staticmethod(json.dumps)


class GuardedRequest(Request):
    """Flask's request, whose JSON body is parsed within the bounds and, when it is not
    acceptable, refused with a JSON answer that says why."""

    @property
    def json_module(self):
        return _BoundedJSON

    @json_module.setter
    def json_module(self, _provider):
        """Flask hands each request the app's JSON provider; bodies keep to the bounds."""

    def on_json_loading_failed(self, e):
        if e is None:
            abort(json_refusal(415, _("This call takes a JSON body.")))
        message = e.message if isinstance(e, JSONRefused) else _("The body is not valid JSON.")
        abort(json_refusal(getattr(e, "status", 400), message))


def _refuse_bad_json():
    if not has_body():
        return
    if request.mimetype != JSON:
        abort(json_refusal(415, _("This call takes a JSON body.")))
    if (request.content_length or 0) > JSON_MAX_BYTES:
        abort(json_refusal(413, _("The body is too large for this call.")))
    # A body without a length (chunks) is read one byte past the limit, no further: more
    # than the limit read is refused (413) by ``parse_json``.
    request.max_content_length = JSON_MAX_BYTES + 1


def refuse_unexpected_bodies():
    if request.method not in BODY_METHODS or request.endpoint is None:
        return  # nothing to read, or routing already failed (404/405 follow)
    view = current_app.view_functions[request.endpoint]
    if getattr(view, "accepts_json", False):
        _refuse_bad_json()
        return
    allowed = (FORM, MULTIPART) if getattr(view, "accepts_upload", False) else (FORM,)
    if request.mimetype in allowed or (not request.mimetype and not has_body()):
        return
    if problems.is_api_request():
        abort(json_refusal(415, _("This call takes a JSON body.")))
    abort(415)


def _has_nul(multidict):
    return any("\x00" in key or (isinstance(value, str) and "\x00" in value)
               for key, value in multidict.items(multi=True))


def refuse_nul_bytes():
    if _has_nul(request.args) or (request.method in BODY_METHODS and _has_nul(request.form)):
        if problems.is_api_request():
            abort(json_refusal(400, _("The request holds a NUL character.")))
        abort(400)


def register(app):
    app.request_class = GuardedRequest
    app.before_request(refuse_unexpected_bodies)
    app.before_request(refuse_nul_bytes)
