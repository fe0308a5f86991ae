"""``/api/docs``: the API's reference for till and web-shop developers, drawn in the browser
by Redoc (vendored under ``static/vendor/``, no CDN) from ``/api/v1/openapi.json``, the
document the request schemas are written into. Public, as the document is: it holds no
merchant's data, and a developer reads it before they have a key.
"""
from flask import Blueprint, make_response, render_template

from loyalty.headers import CONTENT_SECURITY_POLICY

bp = Blueprint("api_docs", __name__)

#: The site's policy with two relaxations this page alone needs, for Redoc: its styles are
#: injected as <style> elements at run time (styled-components), so style-src admits inline
#: styles; its search index runs in a worker made from a blob: URL. Scripts stay 'self' only
#: (no inline script, no eval), so an injected style cannot become an injected script, and the
#: page shows nothing but the public document.
DOCS_CONTENT_SECURITY_POLICY = (
    CONTENT_SECURITY_POLICY
    .replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
    + "; worker-src blob:"
)


@bp.get("/api/docs")
def reference():
    response = make_response(render_template("api_docs.html"))
    response.headers["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
    return response
