"""The API's schemas at work: one ``SpecTree`` validates every request with the same
pydantic models the OpenAPI document is written from, so the reference cannot drift.

``api_call`` stacks what every endpoint needs, in order: the key's scope (403), a JSON body
within bounds (the request guard, then the parser: 400/413/415), the Idempotency-Key of a
POST (replay, 409, 422), the schema (422 with the invalid fields), then the view.
"""
import copy
import functools

from flask import current_app, g, request
from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, ValidationError
from spectree import Response, SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData

from loyalty import problems
from loyalty.request_guard import has_body
from loyalty.services.errors import DomainError, InvalidInput, PermissionDenied
from loyalty.services.integrations import idempotency

REPLAYED_HEADER = "Idempotent-Replayed"
#: Every refusal an authenticated endpoint may give, besides its own.
COMMON_ERRORS = (400, 401, 403, 413, 415, 422, 429)


class Strict(BaseModel):
    """A request body: unknown fields are refused, not ignored; no type is coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class Problem(BaseModel):
    """RFC 9457 problem details (``application/problem+json``)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "type": "urn:loyalty:problem:refused", "title": "Refused", "status": 409,
        "detail": "Not enough points: Cake costs 200, this card has 135."}, {
        "type": "urn:loyalty:problem:invalid-request", "title": "Invalid request", "status": 422,
        "detail": "Some fields are not valid: see errors.",
        "errors": [{"field": "amount",
                    "message": "Send the amount as a decimal string such as \"12.50\"."}]}]})

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict] | None = None


def _field_errors(error):
    return [{"field": ".".join(str(part) for part in item["loc"]) or "body",
             "message": item["msg"]} for item in error.errors()]


def _refuse_invalid(req, resp, error, instance, *args):
    """spectree's hook after validation: an invalid request is a problem+json 422."""
    if error is not None:
        raise InvalidInput(_("Some fields are not valid: see errors."),
                           errors=_field_errors(error))


spec = SpecTree(
    "flask",
    title="Loyalty API",
    version="v1",
    openapi_version="3.1.0",
    mode="strict",
    naming_strategy=lambda model: model.__name__,  # model names are unique across the API
    nested_naming_strategy=lambda _parent, child: child,
    annotations=False,
    before=_refuse_invalid,
    validation_error_status=422,
    security_schemes=[SecurityScheme(name="apiKey", data=SecuritySchemeData(
        type=SecureType.HTTP, scheme="bearer",
        description="An API key from Settings > Integrations: "
                    "`Authorization: Bearer lk_live_...`"))],
    security={"apiKey": []},
    description=(
        "Connect a till or a web shop to the loyalty program: look up and enrol cards, credit "
        "purchases once per order reference, refund them, add stamps and redeem rewards. Every "
        "POST takes an `Idempotency-Key` header. Errors are RFC 9457 problem details whose "
        "`type` names the problem (`urn:loyalty:problem:refused`, ...) and whose `detail` is in "
        "the language of `Accept-Language` (en, fr, de, lb)."),
)


def responses(ok=None, *, status=200, errors=(), public=False):
    """spectree's ``Response`` for a call answering ``ok`` with ``status`` and the listed
    problems (plus the common ones of a call with a key)."""
    # 422 always: spectree would otherwise document its own validation error shape for it.
    codes = set(errors) | {422} | (set() if public else set(COMMON_ERRORS))
    return Response(**{f"HTTP_{status}": ok}, **{f"HTTP_{code}": Problem for code in codes})


def _refuse_other_than_object(model, body):
    """A body that is JSON but not an object (``null``, ``[]``, ``0``) is refused as the
    model refuses it: spectree reads a falsy one as ``{}``, which a model whose fields all
    have defaults would take, and the view would then read ``None``."""
    if isinstance(body, dict):
        return
    try:
        model.model_validate(body)
    except ValidationError as error:
        raise InvalidInput(_("Some fields are not valid: see errors."),
                           errors=_field_errors(error)) from None


def require_scope(scope):
    if scope not in g.caller.scopes:
        raise PermissionDenied(_("This API key may not do this: it needs the scope %(scope)s.",
                                 scope=scope))


def _replay(stored):
    mimetype = problems.MEDIA_TYPE if stored.status >= 400 else "application/json"
    response = current_app.response_class(stored.body, status=stored.status, mimetype=mimetype)
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _as_response(call):
    """The view's answer as a response, a refusal included (it is kept for the retry)."""
    try:
        return current_app.make_response(call())
    except DomainError as error:
        return current_app.handle_user_exception(error)


def _idempotent(call):
    key = request.headers.get("Idempotency-Key")
    g.ledger_key = g.idempotency_claim = None
    if key is None:
        return call()
    caller = g.caller
    body = request.get_json() if has_body() else None
    fingerprint = idempotency.request_hash(request.method, request.path, body)
    claim = idempotency.claim(caller.merchant_id, caller.key_id, key, fingerprint)
    if isinstance(claim, idempotency.Stored):
        return _replay(claim)
    g.ledger_key = idempotency.ledger_key(caller.merchant_id, claim)
    g.idempotency_claim = claim  # a view whose work builds its answer keeps it there
    try:
        response = _as_response(call)
    except BaseException:
        idempotency.store(claim, 500, None)
        raise
    if not g.pop("answer_kept", False):
        idempotency.store(claim, response.status_code, response.get_data(as_text=True))
    return response


def api_call(*, tags, resp, scope=None, json=None, query=None, public=False):
    """Declare an endpoint: its tag in the reference, its responses, the scope its key needs,
    the schemas of its body and query. A public call needs no key."""

    def decorate(view):
        validated = spec.validate(json=json, query=query, resp=resp, tags=tags,
                                  security={} if public else None)(view)

        @functools.wraps(validated)
        def endpoint(*args, **kwargs):
            if scope is not None:
                require_scope(scope)
            if request.method == "POST":
                if has_body():
                    # within bounds, or refused as a problem (400/413/415)
                    body = request.get_json()
                    if json is not None:
                        _refuse_other_than_object(json, body)
                return _idempotent(lambda: validated(*args, **kwargs))
            return validated(*args, **kwargs)

        endpoint.accepts_json = json is not None
        endpoint.public_api = public
        return endpoint

    return decorate


IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.KEY_MAX},
    "description": "Send the request again with the same key and the same body: the first "
                   "answer comes back (header `Idempotent-Replayed: true`). The same key with "
                   "another body is a 422; while the first request still runs, a 409. Keys are "
                   "kept at least 24 hours.",
}


def openapi_document():
    """The OpenAPI 3.1 document, with refusals typed ``application/problem+json``, and the
    ``Idempotency-Key`` header (and its 409) on every POST, as ``api_call`` accepts it."""
    document = copy.deepcopy(spec.spec)
    for operations in document["paths"].values():
        for method, operation in operations.items():
            if method == "post":
                operation.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
                operation["responses"].setdefault("409", {
                    "description": "Conflict",
                    "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/Problem"}}}})
            for code, answer in operation.get("responses", {}).items():
                content = answer.get("content", {})
                if code.isdigit() and int(code) >= 400 and "application/json" in content:
                    content[problems.MEDIA_TYPE] = content.pop("application/json")
    return document
