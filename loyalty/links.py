"""Absolute links for emails, posters and wallet passes, built on the public address.

``PUBLIC_BASE_URL`` when it is set (always in production). Unset in development, a link made
while a page is served follows the address that page was opened on (``make run`` on another
port, or the computer's address on the shop's network), and work outside requests (jobs,
commands) uses the address ``flask run`` serves (``DEVELOPMENT_BASE_URL``)."""
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request

#: Host names only a local network resolves (mDNS, home routers, intranets).
LOCAL_NETWORK_SUFFIXES = (".local", ".lan", ".home.arpa", ".internal", ".intranet")


def public_base_url():
    """The public address, without a trailing slash."""
    config = current_app.config
    if config["PUBLIC_BASE_URL"]:
        return config["PUBLIC_BASE_URL"]
    if has_request_context():
        return request.host_url.rstrip("/")
    return config["DEVELOPMENT_BASE_URL"]


def external_url(endpoint, **values):
    """``url_for(endpoint, **values, _external=True)`` on the public address, in or out of a
    request."""
    base = urlsplit(public_base_url())
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                       url_scheme=base.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


def card_url(card):
    """The customer's own card page (``/card/<secret>``)."""
    return external_url("storefront.card", secret=card.page_secret)


@dataclass(frozen=True)
class LimitedReach:
    """A public address that not every phone can open: ``scope`` is "computer" (loopback:
    only the computer serving the site) or "network" (a private address: only devices on the
    same local network, such as the shop's Wi-Fi)."""
    host: str
    scope: str


def reach_of(url):
    """Who cannot open links on ``url``: a ``LimitedReach``, or None when it is public."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return LimitedReach(host, "computer")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if "." not in host or host.endswith(LOCAL_NETWORK_SUFFIXES):
            return LimitedReach(host, "network")
        return None
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    if address.is_loopback or address.is_unspecified:
        return LimitedReach(host, "computer")
    if address.is_private or address.is_link_local:
        return LimitedReach(host, "network")
    return None


def public_address_reach():
    """``reach_of`` the public address links are built on now (templates warn with it)."""
    return reach_of(public_base_url())


def install(app):
    """Templates show links on the public address, and whether phones can open them."""
    app.jinja_env.globals.update(public_url=external_url,
                                 public_address_reach=public_address_reach)
