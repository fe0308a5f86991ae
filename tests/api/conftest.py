"""The API's callers: a key per test, and a client that sends it.

The attempt budgets' clock stands still in tests (``tests/conftest.py``), so the per-key
budget would never refill: it is set far out of reach here; the rate-limit tests lower it.
"""
import pytest

from loyalty.services.integrations import api_keys

ALL_SCOPES = tuple(api_keys.SCOPES)


@pytest.fixture(autouse=True)
def _generous_api_budget(app):
    app.config["API_RATE_LIMIT"] = "100000 per second"


class Api:
    """A till: ``api.get("/cards/...")``, ``api.post("/cards", json=..., key="idem-1")``."""

    def __init__(self, client, key, language=None):
        self.client, self.key, self.language = client, key, language

    def headers(self, idempotency_key=None, **extra):
        headers = {"Authorization": f"Bearer {self.key}"}
        if self.language:
            headers["Accept-Language"] = self.language
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        headers.update(extra)
        return headers

    def get(self, path, **kwargs):
        return self.client.get("/api/v1" + path, headers=self.headers(), **kwargs)

    def post(self, path, json=None, *, key=None, headers=None, **kwargs):
        return self.client.post("/api/v1" + path, json=json,
                                headers=self.headers(key, **(headers or {})), **kwargs)


@pytest.fixture
def make_key(app):
    """``make_key(merchant, scopes=..., store=None, name=...)`` -> the key in clear."""

    def make(merchant, scopes=ALL_SCOPES, store=None, name="Till 1"):
        merchant = getattr(merchant, "merchant", merchant)  # a team, or the merchant itself
        _row, key = api_keys.create_key(merchant.id, name=name, scopes=scopes,
                                        store_id=store.id if store is not None else None)
        return key

    return make


@pytest.fixture
def make_api(client, make_key):
    def make(merchant, scopes=ALL_SCOPES, store=None, language=None, name="Till 1"):
        return Api(client, make_key(merchant, scopes, store, name), language)

    return make


@pytest.fixture
def api(merchant, make_api):
    """A key of the ``merchant`` fixture's merchant (Café Test) with every scope."""
    return make_api(merchant)
