"""What a person typed into a form, kept while they are sent away from it and back.

Two things take a person away from a form they filled in: switching the page's language (the
page comes back in the other language) and a session that ended under them (they sign in
again first). Either way the fields they posted are kept in their session, for the page the
form is on and for a short while; the next time that page is shown, the form those fields
came from starts from them (``loyalty.forms.Form`` asks ``refill``). Nothing is sent again on
its own: the person checks the form and submits it themselves, with a fresh CSRF token.

Secrets (passwords, PINs, tokens, idempotency keys) are never kept, nor the bots' honeypot.
Fields kept after a sign-in page come back only to the person whose session it was. The
session is a cookie (browsers keep about 4 KB), so the longest texts give way first when
everything would not fit.
"""
import re
import time
from urllib.parse import urlsplit

from flask import current_app, g, request, session
from flask_login import current_user
from werkzeug.datastructures import MultiDict

KEY = "typed_input"
#: How long kept fields wait for their page (a sign-in, a password looked up).
KEPT_SECONDS = 30 * 60
#: The largest the session cookie may grow to with the kept fields in it.
COOKIE_BUDGET = 3500
NEVER_KEPT = frozenset({"csrf_token", "next", "idempotency_key", "website"})
SECRET = re.compile(r"password|token|secret|(^|_)pin$")


def _keepable(name):
    return name not in NEVER_KEPT and not SECRET.search(name)


def _cookie_size():
    serializer = current_app.session_interface.get_signing_serializer(current_app)
    return len(serializer.dumps(dict(session)))


def keep(page, formdata, *, user_id=None):
    """Keep ``formdata``'s fields for the page at ``page`` (a local path; its query does not
    matter), to come back only to ``user_id`` when one is given. Returns False when a text
    was too long to keep (it is left out), else True."""
    path = urlsplit(page or "").path
    fields = [[name, values] for name, values in formdata.lists() if _keepable(name)]
    if not path or not fields:
        return True
    entry = {"page": path, "fields": fields, "user": user_id, "at": int(time.time())}
    session[KEY] = entry
    complete = True
    while fields and _cookie_size() > COOKIE_BUDGET:
        fields.remove(max(fields, key=lambda item: sum(len(value) for value in item[1])))
        complete = False
        session[KEY] = entry
    if not fields:
        session.pop(KEY, None)
    return complete


def _live_entry():
    entry = session.get(KEY)
    if entry and time.time() - entry["at"] > KEPT_SECONDS:
        session.pop(KEY, None)
        return None
    return entry


def waiting_for(page):
    """Whether fields are kept for the page at ``page``."""
    entry = _live_entry()
    return bool(entry) and entry["page"] == urlsplit(page or "").path


def _for(entry, user_id):
    return entry["user"] is None or entry["user"] == user_id


def kept(user_id):
    """The fields kept for ``user_id`` as they are in the session (sign-in puts them into
    the fresh session; someone else's are left behind with the old one)."""
    entry = _live_entry()
    return entry if entry and _for(entry, user_id) else None


def put_back(entry):
    if entry:
        session[KEY] = entry


def _taken_for_this_page():
    """The kept fields of the page now shown, taken once (a reload shows the page as saved):
    only on a whole page shown, and only to the person they were kept for."""
    if "typed_input" not in g:
        g.typed_input = None
        entry = _live_entry()
        if entry and entry["page"] == request.path:
            session.pop(KEY, None)
            if _for(entry, getattr(current_user, "id", None)):
                g.typed_input = MultiDict(
                    [(name, value) for name, values in entry["fields"] for value in values])
    return g.typed_input


def refill(form):
    """The fields kept for ``form`` on the page now shown, or None: they must all be fields
    of this form (another form of the page keeps its own values)."""
    if request.method != "GET" or request.headers.get("HX-Request") == "true":
        return None
    typed = _taken_for_this_page()
    if typed is None or not set(typed) <= {field.name for field in form._fields.values()}:
        return None
    return typed
