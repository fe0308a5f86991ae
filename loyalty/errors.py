"""Error pages that look like the product, and the one place domain errors become HTTP."""
from flask import render_template, request, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from loyalty import problems
from loyalty.extensions import db, login_manager
from loyalty.redirects import is_htmx, sign_in_again
from loyalty.services.errors import DomainError

#: Areas only signed-in people use: a form posted there without a session means it expired.
SIGNED_IN_AREAS = ("terminal", "merchant", "admin", "auth")
#: Forms anyone posts, signed in or not (the language menu): a bad token there is an out of
#: date page, never a reason to sign in.
OPEN_FORMS = ("auth.set_language",)


def _render(status, title, message):
    template = "errors/_error.html" if is_htmx() else "errors/error.html"
    return render_template(template, status=status, title=title, message=message), status


def _http_error(error):
    if problems.is_api_request():
        return _api_http_error(error)
    messages = {
        400: (_("Request not understood"), _("The request could not be read. Go back, check what you typed and try again.")),
        403: (_("Not allowed"), _("Your account cannot open this page. Sign in with another account or ask the owner for access.")),
        404: (_("Not found"), _("We could not find this page. Check the address or go back to the start.")),
        405: (_("Not allowed"), _("This action cannot be done this way. Go back and use the buttons on the page.")),
        413: (_("Too large"), _("What you sent is too large. Send a smaller file or shorter text.")),
        415: (_("Not accepted"), _("This page only accepts its own forms. Go back and use the form on the page.")),
        429: (_("Too many attempts"), _("Too many attempts in a short time. Wait a few minutes, then try again.")),
    }
    title, message = messages.get(
        error.code, (error.name, _("Something went wrong with this request. Go back and try again."))
    )
    return _render(error.code, title, message)


def _api_http_error(error):
    """An HTTP error under ``/api/`` (no such route, wrong method, too large): problem+json."""
    messages = {
        404: _("There is no such resource. Check the path against the API reference."),
        405: _("This method is not allowed here. Check the API reference."),
        413: _("The body is too large for this call."),
        415: _("This call takes a JSON body."),
    }
    response = error.get_response()
    headers = {"Allow": response.headers["Allow"]} if "Allow" in response.headers else None
    return problems.problem(error.code, messages.get(error.code, error.description or error.name),
                            headers=headers)


def csrf_error(error):
    """A form without a valid token. Without a session (it expired, or the cookie is gone),
    the person signs in again and comes back; otherwise the page itself is out of date."""
    if (not current_user.is_authenticated and request.blueprint in SIGNED_IN_AREAS
            and request.endpoint not in OPEN_FORMS):
        return sign_in_again(_("Your session expired. Sign in again."))
    return _render(
        400,
        _("This form has expired"),
        _("The page was open too long or sent from somewhere else. Reload the page and try again."),
    )


def sign_in_required():
    """Flask-Login's answer to a signed-out visitor, in the visitor's language. The terminal's
    service worker keeping its page (``X-Terminal-Worker``) gets a bare 401: the session and
    its message are left for the person's own next request."""
    if request.headers.get("X-Terminal-Worker"):
        return "", 401
    if session.get("_user_id"):  # the cookie names a session that is over
        return sign_in_again(_("Your session has ended. Sign in again."))
    return sign_in_again(_("Sign in to open this page."))


def _domain_error(error):
    if problems.is_api_request():
        return problems.problem(error.status_code, error.message, slug=error.problem_type,
                                errors=error.details.get("errors"))
    return _render(error.status_code, _("That did not work"), str(error.message))


def _server_error(error):
    db.session.rollback()
    if problems.is_api_request():
        return problems.problem(500, _("An unexpected error happened on our side. Nothing was "
                                       "changed. Try again in a moment."))
    return _render(
        500,
        _("Something went wrong"),
        _("An unexpected error happened on our side. Nothing was changed. Try again in a moment."),
    )


#: Seconds a client waits before it tries again after the database connection was lost.
RETRY_AFTER_SECONDS = 2


def _database_error(error):
    """A connection that died under the request (the database restarted, or ended it) is no
    bug: the transaction was rolled back (unless the connection died during its very COMMIT,
    hence "may not have been saved"), the pool replaces the connection, and the same request,
    sent again with its idempotency key, counts once. Anything else is a server error."""
    if not error.connection_invalidated:
        raise error
    try:
        db.session.rollback()
    except DBAPIError:  # the connection is gone; the session lets it go
        db.session.close()
    if problems.is_api_request():
        return problems.problem(503, _("We lost the connection to the database for a moment, "
                                       "so this may not have been saved. Send it again with "
                                       "the same Idempotency-Key."),
                                headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    response = _render(
        503,
        _("Connection lost for a moment"),
        _("We lost the connection to the database for a moment, so this may not have been "
          "saved. Try again in a few seconds."),
    )
    return response[0], 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def register_errorhandlers(app):
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(500, _server_error)
    login_manager.unauthorized_handler(sign_in_required)
