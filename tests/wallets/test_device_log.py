"""The PassKit log endpoint takes no authentication (Apple's protocol): anyone may call it, so
every call counts against its address, a body out of bounds is refused with a JSON message
(50,000 nested brackets were once a 500 and a traceback), and what a call leaves in our log
is short: so many messages, each cut, one line each."""
import io

import pytest

from loyalty.services.wallets import passkit
from tests.wallets.conftest import apple_settings

LOG = "/wallet/apple/v1/log"


@pytest.fixture
def limited(make_app, wallet_files):
    return make_app(**apple_settings(wallet_files), WALLET_ADDRESS_LIMIT="3 per minute")


@pytest.mark.parametrize(("body", "status", "message"), [
    ("[" * 50_000 + "]" * 50_000, 413, "The body is too large for this call."),
    ('{"logs": ' + "[" * 20_000 + "]" * 20_000 + "}", 400, "The body is nested too deeply."),
    ('{"logs": [1e400]}', 400, "A number in the body is out of range."),
    ('{"logs": ["a\\u0000b"]}', 400, "The body holds a NUL character."),
    ('{"logs": [', 400, "The body is not valid JSON."),
    ('{"logs": "hello"}', 400, 'The body must be {"logs": [text, ...]}.'),
    ('{"logs": ["hello", 5]}', 400, 'The body must be {"logs": [text, ...]}.'),
])
def test_a_body_out_of_bounds_is_refused_with_a_json_message(client, caplog, body, status,
                                                              message):
    response = client.post(LOG, data=body, content_type="application/json")
    assert (response.status_code, response.get_json()) == (status, {"error": message})
    assert "Wallet device log" not in caplog.text


def test_what_a_call_leaves_in_the_log_is_short(client, caplog):
    messages = [f"line {n}\nforged: admin signed in " + "x" * 1000 for n in range(60)]
    assert client.post(LOG, json={"logs": messages}).status_code == 200
    logged = [record.getMessage() for record in caplog.records
              if record.getMessage().startswith("Wallet device log")]
    assert len(logged) == passkit.DEVICE_LOG_MESSAGES + 1
    assert logged[-1].endswith(f"({60 - passkit.DEVICE_LOG_MESSAGES} more messages not logged)")
    assert all(len(line) < passkit.DEVICE_LOG_CHARS + 50 and "\n" not in line for line in logged)
    assert "line 0\\nforged" in logged[0]


def test_every_call_counts_against_its_address_bad_bodies_too(limited):
    client = limited.test_client()
    assert client.post(LOG, json={"logs": ["hello"]}).status_code == 200
    assert client.post(LOG, data="[" * 20_000, content_type="application/json").status_code == 400
    assert client.post(LOG, json={"logs": ["hello"]}).status_code == 200
    paused = client.post(LOG, json={"logs": ["hello"]})
    assert paused.status_code == 429 and int(paused.headers["Retry-After"]) > 0


def test_a_chunked_body_is_cut_at_the_limit(client):
    """Without a length to check first, the body is read up to the limit, not further."""
    body = io.BytesIO(b'{"logs": ["' + b"x" * 200_000 + b'"]}')
    response = client.post(LOG, input_stream=body, content_type="application/json",
                           headers={"Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert response.get_json() == {"error": "The body is too large for this call."}
