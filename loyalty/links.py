"""Absolute links for emails and wallet passes, built on ``PUBLIC_BASE_URL`` (a job has no
request to take the host from)."""
from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint, **values):
    """``url_for(endpoint, **values, _external=True)`` on the public address, in or out of a
    request."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                       url_scheme=base.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


def card_url(card):
    """The customer's own card page (``/card/<secret>``)."""
    return external_url("storefront.card", secret=card.page_secret)
