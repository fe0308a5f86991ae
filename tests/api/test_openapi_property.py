"""The OpenAPI document against the app, property-based (schemathesis).

Every operation the document lists (read when the tests are collected, so new endpoints are
covered without touching this file) gets generated requests, valid and invalid, sent with a
live key of a merchant that has a hybrid program, rewards, stores, a few cards and orders that
earned. Generated card numbers, order references, stores, currencies, amounts and reward ids
are swapped for real ones part of the time, so the runs reach past "not found" into the views.
Each answer must be what the document promises a till developer: never a 5xx, a documented
status code, the documented content type and body schema, invalid input refused.

The schema is loaded from the document at collection and sent to each test's own app (its own
database): schemathesis's ``from_fixture`` does not run under pytest 9.2 (``_nodeid``).
"""
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from loyalty import create_app
from loyalty.blueprints.api.spec import openapi_document
from loyalty.services.merchant import programs
from tests import factories

#: Kept small: every operation runs this many examples, per generation mode, in a fresh app.
MAX_EXAMPLES = 25
#: Every built-in check (no 5xx; documented status, content type, headers and body; invalid
#: input refused; the key not ignored; unsupported methods 405) but one: a body valid for the
#: schema may still break a rule the schema cannot say (an email or a phone; the program's
#: currency), and those are 422 by contract.
EXCLUDED = [positive_data_acceptance]
CARDS = 3


def _seed_orders(client, headers, numbers, store, stamps_target):
    """An order of each card through the API, when its purchases endpoint exists, so that
    refunds meet orders that earned and the first card is full (its stamp reward is due); the
    references that earned."""
    references = []
    for n, number in enumerate(numbers):
        reference = f"seed-{uuid.uuid4().hex[:12]}"
        answer = client.post(f"/api/v1/cards/{number}/purchases", headers=headers, json={
            "order_reference": reference, "amount": "42.50", "currency": "EUR", "store": store,
            "stamps": stamps_target if n == 0 else 1})
        if answer.status_code in (200, 201):
            references.append(reference)
    return references


def _document():
    """The document the app serves, from an app that needs no database to write it."""
    app = create_app({"TESTING": True, "SECRET_KEY": "document", "SERVER_NAME": "localhost",
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.test_request_context():
        return openapi_document()


class RunningApp:
    """The WSGI app the schema sends to: the running test's own (``seeded`` sets it), so that
    schemathesis's own probes (a request without the key, ...) reach it too."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


RUNNING = RunningApp()
DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.app = RUNNING
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True)
#: name -> real values for the running test (filled by the ``seeded`` fixture).
REAL = {}


#: Where generated values may be swapped for real ones: a case's path, query and body.
PARTS = ((ParameterLocation.PATH, "path_parameters"), (ParameterLocation.QUERY, "query"),
         (ParameterLocation.BODY, "body"))


def _negative_at(case, location):
    return case.meta is not None and case.meta.is_negative_at(location)


@schema.hook("flatmap_case")
def _sometimes_real(context, case):
    """The case as generated or, as often as not, with real values in its valid parts (an
    invalid part stays invalid: schemathesis expects it refused)."""
    swaps = {}
    for location, attribute in PARTS:
        values = getattr(case, attribute)
        if not isinstance(values, dict) or _negative_at(case, location):
            continue
        real = {name: st.sampled_from(REAL[name]) for name in values if REAL.get(name)}
        if real:
            swaps[attribute] = st.fixed_dictionaries(real).map(
                lambda chosen, values=values: {**values, **chosen})
    if not swaps:
        return st.just(case)

    def swapped(parts):
        for attribute, values in parts.items():
            setattr(case, attribute, values)
        return case

    return st.one_of(st.just(case), st.fixed_dictionaries(swaps).map(swapped))


@pytest.fixture
def seeded(app, client, make_key):
    """A merchant with a hybrid program, rewards, two stores, cards and orders that earned; the
    headers of its key. Fills ``REAL`` with the values generated ones may become."""
    team = factories.merchant_with_team("Café Props", "cafe-props")
    # The reward named, as the owner's form requires.
    program = factories.hybrid_program(team.merchant, stamp_reward_description="A free coffee")
    rewards = [programs.add_reward(program, name, cost).id
               for name, cost in (("Croissant", 30), ("Cake", 200))]
    numbers = [factories.card(team.merchant, f"Card {n}", store=team.stores[0]).card_number
               for n in range(CARDS)]
    headers = {"Authorization": f"Bearer {make_key(team, name='Property run')}"}
    store = team.stores[0].code
    orders = _seed_orders(client, headers, numbers, store, program.stamps_target)
    RUNNING.app = app
    REAL.clear()
    REAL.update({
        "number": numbers, "order_reference": orders, "store": [store, team.stores[1].code],
        "currency": [team.merchant.currency], "reward_id": rewards, "slug": ["cafe-props"],
        "amount": ["12.50", "0.01", "100"], "email": ["new.customer@example.com"],
        "phone": ["+352 621 123 456"],
        "query": numbers + [number.replace("-", "") for number in numbers],
    })
    yield headers
    REAL.clear()
    RUNNING.app = None


def test_the_app_serves_this_document(client):
    assert client.get("/api/v1/openapi.json").get_json() == DOCUMENT


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_answer_matches_the_document(case, seeded):
    if not _negative_at(case, ParameterLocation.HEADER):  # else left out or broken: a 401
        case.headers = {**(case.headers or {}), **seeded}
        if "Idempotency-Key" in case.headers:  # a new one, or each POST would replay the first
            case.headers["Idempotency-Key"] = uuid.uuid4().hex
    case.call_and_validate(excluded_checks=EXCLUDED)
