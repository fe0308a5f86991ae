"""Security headers on every response: pages, partials, errors, static files, ``/healthz``.

The Content Security Policy admits only the app's own scripts and styles (htmx and the small
scripts under ``/static``): no inline script or style, no eval, no framing by other sites.
"""
from flask import request

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "media-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HSTS = "max-age=31536000; includeSubDomains"


def add_security_headers(response, *, production):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # A view that shows a secret in its URL (the customer's card page) sets no-referrer itself.
    headers.setdefault("Referrer-Policy", "same-origin")
    if production:
        headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint not in ("static", "media.image"):
        # Pages carry personal data or a form's token: no browser or proxy keeps a copy.
        headers["Cache-Control"] = "no-store"
    return response


def register(app):
    production = app.config["ENV_NAME"] == "production"

    @app.after_request
    def security_headers(response):
        return add_security_headers(response, production=production)
