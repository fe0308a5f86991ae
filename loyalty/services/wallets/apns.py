"""Apple's push service (APNs) for wallet passes: an empty push per registered device tells
it to fetch the pass again. HTTP/2 with TLS client authentication by the pass certificate;
one connection per worker, kept open as Apple asks.
"""
import json
import logging
import ssl
import threading
from dataclasses import dataclass, field

import httpx
from flask import current_app

from loyalty import metrics

log = logging.getLogger(__name__)
TIMEOUT = 10
#: APNs reasons that mean the device will never take this token again.
GONE_REASONS = {"BadDeviceToken", "Unregistered", "DeviceTokenNotForTopic"}
_clients, _lock = {}, threading.Lock()


class PushUnavailable(Exception):
    """APNs or Google asked to slow down (429) or failed (5xx, no answer): retried later."""


@dataclass
class PushResult:
    gone: list = field(default_factory=list)  # registration ids to forget
    refused: list = field(default_factory=list)  # 400/403 answers, for the status page
    unavailable: list = field(default_factory=list)  # 429/5xx/no answer: try again


def _client():
    config = current_app.config
    key = (config["APPLE_PASS_CERT_FILE"], config["APPLE_PASS_KEY_FILE"],
           config["APPLE_APNS_CA_FILE"])
    with _lock:
        client = _clients.get(key)
        if client is None or client.is_closed:
            context = ssl.create_default_context(cafile=config["APPLE_APNS_CA_FILE"])
            context.load_cert_chain(config["APPLE_PASS_CERT_FILE"], config["APPLE_PASS_KEY_FILE"],
                                    password=config["APPLE_PASS_KEY_PASSWORD"])
            client = _clients[key] = httpx.Client(http2=True, verify=context, timeout=TIMEOUT)
        return client


def _reason(response):
    try:
        return json.loads(response.content or b"{}").get("reason", "")
    except ValueError:
        return ""


def push(tokens):
    """Push to each ``(registration id, push token)``; every device is tried."""
    config = current_app.config
    result = PushResult()
    if not tokens:
        return result
    try:
        client = _client()
    except (OSError, ssl.SSLError, ValueError) as error:
        result.unavailable.append(f"pass certificate: {error}")
        metrics.WALLET_FAILURES.labels("apple", "unavailable").inc(len(tokens))
        return result
    for registration_id, token in tokens:
        try:
            response = client.post(f"{config['APPLE_APNS_URL']}/3/device/{token}", content=b"{}",
                                   headers={"apns-topic": config["APPLE_PASS_TYPE_ID"]})
        except httpx.HTTPError as error:
            result.unavailable.append(f"APNs: {type(error).__name__}: {error}")
            metrics.WALLET_FAILURES.labels("apple", "unavailable").inc()
            continue
        status, reason = response.status_code, _reason(response)
        if status == 200:
            continue
        if status == 410 or reason in GONE_REASONS:
            result.gone.append(registration_id)
        elif status == 429 or status >= 500:
            result.unavailable.append(f"APNs {status} {reason}")
            metrics.WALLET_FAILURES.labels("apple", "unavailable").inc()
        else:
            result.refused.append(f"APNs {status} {reason}")
            metrics.WALLET_FAILURES.labels("apple", "refused").inc()
            log.warning("APNs refused a push: %s %s", status, reason)
    return result
