"""The API's door: keys (401 unknown, malformed, revoked; 403 without the scope), refusals as
problem+json in the caller's language, the per-key rate limit, and bodies of every bad shape
refused with a 4xx, never a 5xx."""
import json

import pytest

from loyalty.services.integrations import api_keys
from tests import factories

CONSENT = {"terms_version": "2026-01", "given": True}
ENROL = {"name": "Anna", "email": "anna@example.com", "consent": CONSENT}


@pytest.fixture
def program(merchant):
    return factories.points_program(merchant.merchant)


def _problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["status"] == status
    assert body["type"].startswith("urn:loyalty:problem:")
    assert body["title"] and body["detail"]
    return body


@pytest.mark.parametrize("authorization", [
    None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer lk_test_short",
    "Bearer lk_live_" + "A" * 43, "Bearer lk_prod_" + "A" * 43, "Bearer " + "x" * 5000,
    "Bearer lk_test_" + "A" * 42 + "\u00e9",
])
def test_no_valid_key_is_401_with_www_authenticate(client, program, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.get("/api/v1/program", headers=headers)
    body = _problem(response, 401)
    assert body["type"] == "urn:loyalty:problem:unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_key_is_refused_at_once(client, merchant, program):
    row, key = api_keys.create_key(merchant.id, name="Till 1", scopes=("cards:read",))
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/program", headers=headers).status_code == 200
    api_keys.revoke_key(merchant.id, row.id)
    response = client.get("/api/v1/program", headers=headers)
    _problem(response, 401)
    assert "WWW-Authenticate" in response.headers


def test_a_missing_scope_is_403(make_api, merchant, program):
    reader = make_api(merchant, scopes=("cards:read",))
    body = _problem(reader.post("/cards", json=ENROL), 403)
    assert body["type"] == "urn:loyalty:problem:forbidden"
    assert "cards:write" in body["detail"]


@pytest.mark.parametrize("language", ["fr", "de"])
def test_problems_speak_the_callers_language_with_a_stable_type(
        make_api, merchant, program, language, client):
    english = make_api(merchant, scopes=("cards:read",), language="en")
    other = make_api(merchant, scopes=("cards:read",), language=language)
    for send in (lambda api: api.get("/cards/0000-0000-0000"),  # 404
                 lambda api: api.post("/cards", json=ENROL)):  # 403
        first, second = send(english).json, send(other).json
        assert first["type"] == second["type"] and first["status"] == second["status"]
        assert first["title"] != second["title"]
        assert first["detail"] != second["detail"]
    unknown = client.get("/api/v1/program", headers={"Accept-Language": language,
                                                     "Authorization": "Bearer nope"}).json
    assert unknown["detail"] != _problem(
        client.get("/api/v1/program", headers={"Authorization": "Bearer nope"}), 401)["detail"]


def test_field_errors_stay_in_english_field_names_with_translated_messages(
        make_api, merchant, program):
    french = make_api(merchant, language="fr")
    body = _problem(french.post("/cards", json={**ENROL, "name": " "}), 422)
    assert body["errors"][0]["field"] == "name"
    assert body["title"] != "Invalid request"


def test_every_answer_carries_the_rate_limit_headers(api, program):
    for response in (api.get("/program"), api.get("/cards/0000-0000-0000")):
        assert response.headers["RateLimit-Policy"] == '"per-key";q=100000;w=1'
        assert response.headers["RateLimit"].startswith('"per-key";r=')


def test_a_key_over_its_budget_is_429_with_retry_after(app, api, program, make_api, merchant):
    app.config["API_RATE_LIMIT"] = "3 per second"
    answers = [api.get("/program") for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert [answer.headers["RateLimit"].split(";")[1] for answer in answers[:3]] == [
        "r=2", "r=1", "r=0"]
    body = _problem(answers[3], 429)
    assert body["type"] == "urn:loyalty:problem:rate-limited"
    assert int(answers[3].headers["Retry-After"]) >= 1
    assert answers[3].headers["RateLimit-Policy"] == '"per-key";q=3;w=1'
    another_key = make_api(merchant)  # the budget is per key
    assert another_key.get("/program").status_code == 200


def test_an_unknown_route_under_the_api_is_a_problem_404(api, client):
    for response in (api.get("/no-such-thing"), client.get("/api/v1/cards/x/y/z"),
                     client.get("/api/v2/cards")):
        assert _problem(response, 404)["type"] == "urn:loyalty:problem:not-found"


def test_a_wrong_method_is_a_problem_405(api, program):
    response = api.client.delete("/api/v1/program", headers=api.headers())
    _problem(response, 405)


def _raw(api, data, content_type="application/json"):
    return api.client.post("/api/v1/cards", data=data, content_type=content_type,
                           headers=api.headers())


def test_a_one_megabyte_body_is_413(api, program):
    padding = "x" * (1024 * 1024)
    _problem(_raw(api, json.dumps({**ENROL, "name": padding})), 413)


def test_a_nul_byte_is_400(api, program):
    _problem(_raw(api, json.dumps({**ENROL, "name": "An\u0000na"})), 400)
    _problem(api.get("/cards?query=ab%00cd"), 400)


@pytest.mark.parametrize("data", ["{", "nul", "[1, 2", "\xff\xfe", "{\"name\": }"])
def test_json_that_cannot_be_read_is_400(api, program, data):
    _problem(_raw(api, data), 400)


def test_a_body_that_is_not_json_is_415(api, program):
    _problem(_raw(api, "name=Anna", "application/x-www-form-urlencoded"), 415)
    _problem(_raw(api, "<xml/>", "application/xml"), 415)


@pytest.mark.parametrize(("body", "field"), [
    ({**ENROL, "name": 42}, "name"),
    ({**ENROL, "name": ["Anna"]}, "name"),
    ({**ENROL, "email": {"a": 1}}, "email"),
    ({**ENROL, "consent": "yes"}, "consent"),
    ({**ENROL, "consent": {"terms_version": 2026, "given": True}}, "consent.terms_version"),
    ({**ENROL, "consent": {"terms_version": "1", "given": 1}}, "consent.given"),
    ({**ENROL, "language": True}, "language"),
])
def test_wrong_json_types_are_422_naming_the_field(api, program, body, field):
    body = _problem(_raw(api, json.dumps(body)), 422)
    assert body["type"] == "urn:loyalty:problem:invalid-request"
    assert field in {error["field"] for error in body["errors"]}


@pytest.mark.parametrize("data", ["[]", "\"Anna\"", "42", "null", "true", "1e999999",
                                  json.dumps({**ENROL, "name": 10 ** 400}),
                                  json.dumps({**ENROL, "name": -(10 ** 30)}),
                                  "[" * 10000 + "]" * 10000])
def test_a_body_that_is_not_an_object_is_refused_without_a_5xx(api, program, data):
    response = _raw(api, data)
    assert response.status_code in (400, 422), response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"


def test_unknown_fields_are_refused_not_ignored(api, program):
    body = _problem(_raw(api, json.dumps({**ENROL, "points_balance": 1000})), 422)
    assert [error["field"] for error in body["errors"]] == ["points_balance"]
    nested = _problem(_raw(api, json.dumps({**ENROL, "consent": {**CONSENT, "at": "now"}})), 422)
    assert [error["field"] for error in nested["errors"]] == ["consent.at"]


def test_huge_numbers_in_the_query_are_422(api, merchant, program):
    card = factories.card(merchant.merchant)
    response = api.get(f"/cards/{card.card_number}/transactions?limit=" + "9" * 5000)
    _problem(response, 422)
