"""Error pages that look like the product, and the one place domain errors become HTTP."""
from flask import render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from loyalty.extensions import db
from loyalty.services.errors import DomainError


def _render(status, title, message):
    template = "errors/_error.html" if request.headers.get("HX-Request") else "errors/error.html"
    return render_template(template, status=status, title=title, message=message), status


def _http_error(error):
    messages = {
        403: (_("Not allowed"), _("Your account cannot open this page. Sign in with another account or ask the owner for access.")),
        404: (_("Not found"), _("We could not find this page. Check the address or go back to the start.")),
        405: (_("Not allowed"), _("This action cannot be done this way. Go back and use the buttons on the page.")),
        429: (_("Too many attempts"), _("Too many attempts in a short time. Wait a few minutes, then try again.")),
    }
    title, message = messages.get(
        error.code, (error.name, _("Something went wrong with this request. Go back and try again."))
    )
    return _render(error.code, title, message)


def _csrf_error(error):
    return _render(
        400,
        _("This form has expired"),
        _("The page was open too long or sent from somewhere else. Reload the page and try again."),
    )


def _domain_error(error):
    return _render(error.status_code, _("That did not work"), str(error.message))


def _server_error(error):
    db.session.rollback()
    return _render(
        500,
        _("Something went wrong"),
        _("An unexpected error happened on our side. Nothing was changed. Try again in a moment."),
    )


def register_errorhandlers(app):
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(500, _server_error)
