"""Apple's push service (APNs) for wallet passes: an empty push per registered device tells
it to fetch the pass again. HTTP/2 with TLS client authentication by the pass certificate.
"""
import logging
import ssl

import httpx
from flask import current_app

log = logging.getLogger(__name__)
TIMEOUT = 10


class PushUnavailable(Exception):
    """APNs asked to slow down (429) or failed (5xx, no answer): the job retries later."""


def _client():
    config = current_app.config
    context = ssl.create_default_context(cafile=config["APPLE_APNS_CA_FILE"])
    context.load_cert_chain(config["APPLE_PASS_CERT_FILE"], config["APPLE_PASS_KEY_FILE"],
                            password=config["APPLE_PASS_KEY_PASSWORD"])
    return httpx.Client(http2=True, verify=context, timeout=TIMEOUT)


def push(tokens):
    """Push to each ``(registration id, push token)``. Returns the registration ids APNs says
    are gone (410), and the refusals it logged (400/403); raises PushUnavailable on 429/5xx
    once every device was tried."""
    config = current_app.config
    gone, refused, unavailable = [], [], []
    if not tokens:
        return gone, refused
    with _client() as client:
        for registration_id, token in tokens:
            try:
                response = client.post(f"{config['APPLE_APNS_URL']}/3/device/{token}", content=b"{}",
                                       headers={"apns-topic": config["APPLE_PASS_TYPE_ID"]})
            except httpx.HTTPError as error:
                unavailable.append(f"{type(error).__name__}: {error}")
                continue
            if response.status_code == 200:
                continue
            if response.status_code == 410:
                gone.append(registration_id)
            elif response.status_code == 429 or response.status_code >= 500:
                unavailable.append(f"{response.status_code} {response.text[:200]}")
            else:
                refused.append(f"{response.status_code} {response.text[:200]}")
                log.warning("APNs refused a push: %s %s", response.status_code,
                            response.text[:200])
    if unavailable:
        raise PushUnavailable("; ".join(unavailable[:3]))
    return gone, refused
