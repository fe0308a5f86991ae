"""Where to send a person next: safe return paths, and back to the sign-in page when the
session is over (a whole-page redirect, also for an HTMX request)."""
from urllib.parse import urlsplit

from flask import flash, make_response, redirect, request, session, url_for

from loyalty import typed_input
from loyalty.services.platform import sessions


def safe_next(target):
    """A local path to return to after sign-in, never another host."""
    if not target:
        return None
    try:
        parts = urlsplit(target)
    except ValueError:  # "http://[x" and the like
        return None
    # Browsers read "/\\host" like "//host": refuse backslashes and control characters too.
    if (parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(ch) < 32 for ch in target)):
        return None
    return target


def is_htmx():
    return request.headers.get("HX-Request") == "true"


def _same_site_path(address):
    try:
        parts = urlsplit(address or "")
    except ValueError:
        return None
    if parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _page_path():
    """The page the person was looking at: for an HTMX request the page that sent it (a find
    from the terminal returns to the terminal, not to the bare results), for a posted form
    the page the form is on, else this URL."""
    if is_htmx():
        return _same_site_path(request.headers.get("HX-Current-URL"))
    if request.method == "GET":
        return request.full_path.rstrip("?")
    # Our pages send their address along to our own forms (Referrer-Policy: same-origin);
    # without it, a form posted to its own page's address still finds its way back.
    page = _same_site_path(request.referrer)
    if page is None and request.url_rule is not None and "GET" in request.url_rule.methods:
        page = request.full_path.rstrip("?")
    return page


def sign_in_again(message):
    """Send the person to the sign-in page with ``message``, to come back here afterwards.
    An HTMX request gets ``HX-Redirect``, so the whole page goes, not a panel inside it.
    A form posted without a session is not carried out: what was typed in it waits for its
    page (``typed_input``), to be checked and sent again once signed in."""
    token = session.pop("_user_id", None)  # the session it named is over
    page = safe_next(_page_path())
    if request.method == "POST" and page:
        typed_input.keep(page, request.form, user_id=sessions.user_id_of(token))
    flash(message, "info")
    target = url_for("auth.login", next=page)
    if is_htmx():
        response = make_response("", 401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)
