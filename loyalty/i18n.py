"""Translations looked up once per request instead of once per string.

Flask-Babel finds the request's catalog again for every string a template translates (a
dozen context-local lookups each), and Flask-WTF reads WTForms' own catalog from disk once per
request. A counter page translates a few dozen strings, so both showed in its profile. Here a
request keeps the catalog Flask-Babel gave it, for as long as its locale stays the same
(``force_locale`` changes it, and the catalog follows), and WTForms' catalogs are read once
per worker and language.
"""
import os
from functools import lru_cache

from babel import support
from flask import current_app
from flask.globals import _cv_app
from flask_babel import get_locale, get_translations
from wtforms.i18n import messages_path

#: The language a visitor picked, remembered for a year (signed-in people also keep it in
#: their session).
LANGUAGE_COOKIE = "lang"
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


def translations():
    """The current request's catalog (Flask-Babel's, kept while its locale is unchanged)."""
    app_context = _cv_app.get(None)
    state = getattr(app_context.g, "_flask_babel", None) if app_context is not None else None
    if state is not None:
        kept = getattr(state, "loyalty_translations", None)
        if kept is not None and kept[0] is getattr(state, "babel_locale", None):
            return kept[1]
    catalog = get_translations()
    state = getattr(app_context.g, "_flask_babel", None) if app_context is not None else None
    locale = getattr(state, "babel_locale", None) if state is not None else None
    if locale is not None:
        state.loyalty_translations = (locale, catalog)
    return catalog


def N_(string):  # noqa: N802 - Babel's marker for a string translated later
    """Mark ``string`` for the catalogs; it is translated where it is shown."""
    return string


def gettext(string, **variables):
    """Flask-Babel's ``gettext`` through the kept catalog (for code on the hot path)."""
    text = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular, plural, num, **variables):
    """Flask-Babel's ``ngettext`` through the kept catalog; ``num`` is a variable too."""
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def install_template_gettext(app):
    """Templates translate through the kept catalog (same newstyle escaping as Flask-Babel)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: translations().ugettext(string),
        ngettext=lambda singular, plural, n: translations().ungettext(singular, plural, n),
        pgettext=lambda context, string: translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: translations().unpgettext(
            context, singular, plural, n),
        newstyle=True,
    )


@lru_cache(maxsize=16)
def _wtforms_catalog(locale):
    """WTForms' catalog of ``locale``; ours for the languages WTForms does not ship (lb)."""
    ours = os.path.join(current_app.config["BABEL_TRANSLATION_DIRECTORIES"], locale,
                        "LC_MESSAGES", "wtforms.mo")
    folder = os.path.dirname(os.path.dirname(os.path.dirname(ours))) if os.path.exists(ours) \
        else messages_path()
    return support.Translations.load(folder, [locale], domain="wtforms")


class WTFormsTranslations:
    """WTForms' built-in messages in the request's language, each catalog read once."""

    @staticmethod
    def _catalog():
        return _wtforms_catalog(str(get_locale()))

    def gettext(self, string):
        return self._catalog().ugettext(string)

    def ngettext(self, singular, plural, n):
        return self._catalog().ungettext(singular, plural, n)


wtforms_translations = WTFormsTranslations()
