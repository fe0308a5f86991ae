"""Where a webhook may go, and the one request that takes it there.

An endpoint is an HTTPS URL. In production it must not reach the platform's own network: the
name is resolved and every address it resolves to must be public (no loopback, private,
link-local, shared, reserved or multicast address), when the endpoint is added and again at
each delivery; the request then connects to the address that was checked (the name travels
as ``Host`` and as the TLS server name, so the certificate is still checked against it), so a
name whose DNS answer changes between the check and the connection cannot slip through.
Redirects are never followed. Outside production, plain ``http`` to this machine is allowed
(a receiver under development, the tests' local receiver); it is pinned the same way.
"""
import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

import httpx
from flask import current_app
from flask_babel import lazy_gettext as _l

from loyalty.services.errors import InvalidInput

URL_MAX = 2000
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}
NOT_HTTPS = _l("Enter an address that starts with https://.")
NOT_PUBLIC = _l("This address leads to a private or local network. Enter an address on the "
                "internet.")
UNKNOWN_NAME = _l("This address's name could not be found. Check it and try again.")


class AddressRefused(Exception):
    """The endpoint's name does not resolve, or resolves to an address that is not allowed."""


def production():
    return current_app.config["ENV_NAME"] == "production"


def clean_url(url):
    """The URL as it will be kept, or InvalidInput (with the reason) for one that may not be
    used: not https (outside production, http to this machine is allowed), with a user name
    or password in it, without a host, or (in production) resolving to a non-public address."""
    url = (url or "").strip()
    if not url:
        raise InvalidInput(_l("Enter the address of your endpoint."), field="url")
    if len(url) > URL_MAX or any(ord(c) < 33 for c in url):
        raise InvalidInput(_l("Enter a valid web address."), field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidInput(_l("Enter a valid web address."), field="url") from None
    host = (parts.hostname or "").lower()
    if not host:
        raise InvalidInput(_l("Enter a valid web address."), field="url")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(_l("Leave the user name and password out of the address."),
                           field="url")
    local_http = parts.scheme == "http" and not production() and host in LOCAL_NAMES
    if parts.scheme != "https" and not local_http:
        raise InvalidInput(NOT_HTTPS, field="url")
    try:
        resolve(host, port or 443)
    except AddressRefused as refused:
        raise InvalidInput(refused.args[0], field="url") from None
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def is_public(address):
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host, port):
    """The address to connect to for ``host``: in production every address the name
    resolves to must be public (one bad answer refuses them all), else AddressRefused."""
    try:
        answers = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise AddressRefused(UNKNOWN_NAME) from None
    addresses = [answer[4][0] for answer in answers]
    if not addresses:
        raise AddressRefused(UNKNOWN_NAME)
    if production() and not all(is_public(address) for address in addresses):
        raise AddressRefused(NOT_PUBLIC)
    return addresses[0]


def post(url, body, headers, timeout):
    """POST ``body`` to ``url`` at the address checked just now; returns the status code.
    Raises AddressRefused, or httpx's errors (timeout, refused connection, TLS)."""
    parts = urlsplit(url)
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = resolve(host, port)
    literal = f"[{address}]" if ":" in address else address
    target = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        request = client.build_request(
            "POST", target, content=body, headers={**headers, "Host": parts.netloc},
            extensions={"sni_hostname": host})
        response = client.send(request, stream=True)  # the answer's body is not read
        response.close()
        return response.status_code
