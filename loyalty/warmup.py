"""Warm a worker before it serves: the first counter request of a fresh worker used to take
~700 ms (templates compiled, mappers configured, catalogs read, the first connection opened),
which showed in the p99 of every deploy and restart.

``gunicorn.conf.py`` calls ``warm_up(app)`` once in each worker before it serves. Nothing here
writes; a database that is not up yet only skips the connection (the first request opens it).
"""
import logging

from flask_babel import force_locale, get_translations
from sqlalchemy import text
from sqlalchemy.orm import configure_mappers

from loyalty.extensions import db
from loyalty.i18n import wtforms_translations

log = logging.getLogger(__name__)

#: The templates behind the counter and the sign-in page, compiled ahead.
TEMPLATE_PREFIXES = ("terminal/", "auth/", "base.html", "macros/", "errors/")


def warm_up(app):
    configure_mappers()
    for name in app.jinja_env.list_templates():
        if name.startswith(TEMPLATE_PREFIXES):
            app.jinja_env.get_template(name)
    with app.test_request_context():
        for language in app.config["LANGUAGES"]:
            with force_locale(language):
                get_translations()
                wtforms_translations.gettext("")
    with app.app_context():
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - a database still starting must not stop the worker
            log.warning("warm-up: the database did not answer; the first request connects")
