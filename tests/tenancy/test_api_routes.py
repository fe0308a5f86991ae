"""Every /api/v1 route, walked from the URL map: a key of merchant A naming merchant B's
records (a card number, an order reference, a reward, a store) is "not found" (or, for a
field of the body, invalid), never B's data, and nothing changes. A new endpoint is checked
without touching this file, unless it names a new kind of record: then the test says which.

The bodies are written from the OpenAPI document (the schemas that validate the requests),
so each request is valid but for the other merchant's record it names."""
import itertools

import pytest
from sqlalchemy import func, select

from loyalty.extensions import db
from loyalty.models import ApiIdempotencyKey, LoyaltyCard, LoyaltyTransaction
from loyalty.services.engine import points
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.errors import NotFound
from loyalty.services.integrations import api_keys
from loyalty.services.merchant import programs
from loyalty.services.platform import accounts
from tests import factories
from tests.api.conftest import Api

#: Path arguments naming a merchant's record.
PATH_RECORDS = {"number", "order_reference"}
#: Body fields naming a merchant's record (the others are plain values, SAMPLES).
BODY_RECORDS = {"reward_id", "store"}
#: A valid value for every other body field the API takes.
SAMPLES = {"amount": "10.00", "currency": "EUR", "quantity": 1, "stamps": 1,
           "stamp_reward": False, "name": "Mallory", "email": "mallory@example.com",
           "language": "en", "consent": {"terms_version": "2026-01", "given": True}}
#: A value for every required query parameter.
QUERY_SAMPLES = {"query": "number"}
_references = itertools.count(1)


@pytest.fixture(autouse=True)
def _generous_api_budget(app):
    app.config["API_RATE_LIMIT"] = "100000 per second"


class Records:
    """One merchant's records: a hybrid program with a reward, a store of its own code, a
    card with points and stamps, an order the API credited."""

    def __init__(self, team, client, tag):
        program = factories.hybrid_program(team.merchant, stamps_target=3)
        self.team = team
        self.reward = programs.add_reward(program, f"{team.merchant.name} cake", 10)
        self.store = accounts.create_store(team.merchant, f"{tag} store", f"{tag}9")
        self.card = factories.card(team.merchant, f"{team.merchant.name} Carla",
                                   email=f"carla@{team.merchant.slug}.example")
        points.earn_points(self.card, 10_000, context=ActionContext(store_id=self.store.id))
        self.api = Api(client, _key(team))
        self.order_reference = f"{tag}-ORDER-1"
        self._credit_order(client)
        self.values = {"number": self.card.card_number, "order_reference": self.order_reference,
                       "reward_id": self.reward.id, "store": self.store.code,
                       "query": self.card.card_number}

    def _credit_order(self, client):
        """The order as the API credits it when it can (its refunds look it up), else as the
        counter does."""
        if "api.purchase" in {rule.endpoint for rule in client.application.url_map.iter_rules()}:
            response = self.api.post(f"/cards/{self.card.card_number}/purchases", json={
                "order_reference": self.order_reference, "amount": "20.00", "currency": "EUR"})
            assert response.status_code in (200, 201), response.json
        else:
            points.earn_points(self.card, 2000, context=ActionContext(),
                               order_reference=self.order_reference)


def _key(team):
    _row, key = api_keys.create_key(team.merchant.id, name=f"{team.merchant.name} till",
                                    scopes=tuple(api_keys.SCOPES))
    return key


def _api_rules(app):
    rules = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.rule.startswith("/api/v1/") and not getattr(view, "public_api", False):
            rules.append(rule)
    return sorted(rules, key=lambda rule: rule.rule)


def _openapi(client):
    return client.get("/api/v1/openapi.json").json


def _operation(document, rule, method):
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<{name}>", f"{{{name}}}")
    return document["paths"][path][method.lower()]


def _schema(document, schema):
    ref = schema.get("$ref")
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def _body(document, operation, ours, theirs_field=None, theirs=None):
    """A valid body for ``operation``: our records, samples, and ``theirs_field`` theirs."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    schema = _schema(document, content["schema"])
    body = {}
    for name in schema.get("properties", {}):
        if name == theirs_field:
            body[name] = theirs.values[name]
        elif name in BODY_RECORDS:
            body[name] = ours.values[name]
        elif name == "order_reference":
            body[name] = f"A-NEW-{next(_references)}"
        elif name in SAMPLES:
            body[name] = SAMPLES[name]
        else:
            assert name not in schema.get("required", []), (
                f"say in SAMPLES or BODY_RECORDS what to send for {name!r}")
    return body


def _query(operation, records):
    return {parameter["name"]: records.values[QUERY_SAMPLES[parameter["name"]]]
            for parameter in operation.get("parameters", [])
            if parameter["in"] == "query" and parameter.get("required")}


def _url(rule, records):
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<{name}>", str(records.values[name]))
    return path.removeprefix("/api/v1")


def _state(theirs):
    db.session.commit()
    card = db.session.get(LoyaltyCard, theirs.card.id, populate_existing=True)
    return (db.session.scalar(select(func.count(LoyaltyTransaction.id))),
            db.session.scalar(select(func.count(LoyaltyCard.id))),
            card.points_balance, card.stamp_count)


@pytest.fixture
def both(app, client, merchant, other_merchant):
    return Records(merchant, client, "A"), Records(other_merchant, client, "B")


def test_every_record_an_api_route_names_has_one_to_try(app, client):
    """A new route naming a new kind of record must say here which of B's records to try."""
    document = _openapi(client)
    for rule in _api_rules(app):
        assert set(rule.arguments) <= PATH_RECORDS, (rule.rule, set(rule.arguments))
        for method in rule.methods & {"GET", "POST"}:
            operation = _operation(document, rule, method)
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and parameter.get("required"):
                    assert parameter["name"] in QUERY_SAMPLES, (rule.rule, parameter["name"])


def _send(api, rule, method, url, query, body):
    if method == "GET":
        return api.get(url, query_string=query)
    return api.post(url, json=body)


def _leaks(response, theirs):
    text = response.get_data(as_text=True)
    return [value for value in (theirs.card.card_number, theirs.card.customer.name,
                                theirs.order_reference, theirs.team.merchant.name)
            if value in text]


def test_another_merchants_records_are_not_found_and_nothing_changes(app, client, both):
    ours, theirs = both
    document = _openapi(client)
    before = _state(theirs)
    ledger_before = before[0]
    checked, wrong = [], []
    for rule in _api_rules(app):
        for method in sorted(rule.methods & {"GET", "POST"}):
            operation = _operation(document, rule, method)
            if rule.arguments:  # their record in the path, a body valid for ours
                response = _send(ours.api, rule, method, _url(rule, theirs),
                                 _query(operation, ours), _body(document, operation, ours))
                assert response.status_code == 404, (method, rule.rule, response.json)
                assert response.mimetype == "application/problem+json"
                checked.append((method, rule.rule, "path"))
            elif method == "GET":  # a list or a lookup: nothing of theirs in it
                response = _send(ours.api, rule, method, _url(rule, ours),
                                 _query(operation, theirs), None)
                assert response.status_code == 200, (method, rule.rule, response.json)
                assert not _leaks(response, theirs), (rule.rule, _leaks(response, theirs))
                checked.append((method, rule.rule, "list"))
            if method != "POST":
                continue
            schema = operation.get("requestBody", {}).get("content", {}).get("application/json")
            fields = set(_schema(document, schema["schema"]).get("properties", {})) if schema \
                else set()
            for field in sorted(fields & BODY_RECORDS):  # our path, their record in the body
                response = _send(ours.api, rule, method, _url(rule, ours), None,
                                 _body(document, operation, ours, field, theirs))
                if response.status_code not in (404, 422) or _leaks(response, theirs):
                    wrong.append((method, rule.rule, field, response.status_code,
                                  response.json))
                checked.append((method, rule.rule, field))
    assert not wrong, wrong
    assert _state(theirs) == before
    db.session.commit()
    assert db.session.scalar(select(func.count(LoyaltyTransaction.id))) == ledger_before
    paths = {path for _method, path, _how in checked}
    assert {"/api/v1/cards/<number>", "/api/v1/cards/<number>/transactions",
            "/api/v1/cards"} <= paths, paths


def test_an_idempotency_key_of_another_merchant_is_not_theirs_to_replay(both):
    ours, theirs = both
    body = {"name": "Same Body", "email": "same@example.com",
            "consent": {"terms_version": "2026-01", "given": True}}
    their_answer = theirs.api.post("/cards", json=body, key="shared-key-1")
    assert their_answer.status_code == 201
    our_answer = ours.api.post("/cards", json=body, key="shared-key-1")
    assert our_answer.status_code == 201
    assert "Idempotent-Replayed" not in our_answer.headers
    assert our_answer.json["number"] != their_answer.json["number"]
    assert db.session.scalar(select(func.count(ApiIdempotencyKey.id)).where(
        ApiIdempotencyKey.key == "shared-key-1")) == 2


def test_a_key_of_a_store_of_another_merchant_cannot_be_made(both):
    ours, theirs = both
    with pytest.raises(NotFound):
        api_keys.create_key(ours.team.merchant.id, name="Till", scopes=("cards:read",),
                            store_id=theirs.store.id)
