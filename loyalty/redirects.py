"""Where to send a person next: safe return paths, and back to the sign-in page when the
session is over (a whole-page redirect, also for an HTMX request)."""
from urllib.parse import urlsplit

from flask import flash, make_response, redirect, request, session, url_for


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


def _page_path():
    """The page the person was looking at: for an HTMX request the page that sent it (a find
    from the terminal returns to the terminal, not to the bare results), else this URL."""
    if is_htmx():
        try:
            parts = urlsplit(request.headers.get("HX-Current-URL", ""))
        except ValueError:
            return None
        if parts.netloc != request.host:
            return None
        return parts.path + (f"?{parts.query}" if parts.query else "")
    if request.method == "GET":
        return request.full_path.rstrip("?")
    return None


def sign_in_again(message):
    """Send the person to the sign-in page with ``message``, to come back here afterwards.
    An HTMX request gets ``HX-Redirect``, so the whole page goes, not a panel inside it."""
    session.pop("_user_id", None)  # the session it named is over
    flash(message, "info")
    target = url_for("auth.login", next=safe_next(_page_path()))
    if is_htmx():
        response = make_response("", 401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)
