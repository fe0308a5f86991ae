"""Request logs name the route, never the secrets in it.

A customer's card link (``/card/<secret>``) and a set-password link (``/set-password/<token>``)
are keys: whoever reads them in a log line holds the card or the account. The routes whose
variables are secrets (``SECRET_ARGUMENTS``) are read from the app's own URL map, so a new
one is covered by its name. Every request carries, in its WSGI environ, the path to log with
those variables replaced by their name (``/card/<secret>/my-data.json``), its query with the
parameters' names only (``?q=…``: searches hold names and phone numbers), and the referring
page redacted alike (same-origin pages send their full address). gunicorn's access log uses
them (``gunicorn.conf.py``, which must not import the app); the development server's request
lines and the app's own "Exception on <path>" lines are redacted by a logging filter.
"""
import logging
import re
from urllib.parse import urlsplit, urlunsplit

#: URL variables that are secrets.
SECRET_ARGUMENTS = frozenset({"secret", "token"})
#: Where the request's redacted path (with its query) and referring page wait for the log.
LOGGED_TARGET = "loyalty.logged_target"
LOGGED_REFERER = "loyalty.logged_referer"
_VARIABLE = re.compile(r"<(?:[^>:]+:)?([^>]+)>")
_SEGMENT = r"[^/?#\s\"']+"


def _route_pattern(rule):
    """A regular expression of the start of ``rule``'s paths up to its last secret variable,
    and its replacement: the static parts and other variables kept, each secret named."""
    parts, replacement, last_secret = [], [], None
    position = 0
    for number, variable in enumerate(_VARIABLE.finditer(rule)):
        static = rule[position:variable.start()]
        parts.append(re.escape(static))
        replacement.append(static.replace("\\", "\\\\"))
        if variable.group(1) in SECRET_ARGUMENTS:
            parts.append(_SEGMENT)
            replacement.append(f"<{variable.group(1)}>")
            last_secret = len(parts)
        else:
            parts.append(f"(?P<v{number}>{_SEGMENT})")
            replacement.append(f"\\g<v{number}>")
        position = variable.end()
    if last_secret is None:
        return None
    return "".join(parts[:last_secret]), "".join(replacement[:last_secret])


class Redactor:
    """The secret routes of a URL map, and how to write a path, a URL or a text without them."""

    def __init__(self, url_map):
        patterns = {_route_pattern(rule.rule) for rule in url_map.iter_rules()} - {None}
        # The longest first: a route's pattern is tried before a shorter one it starts with.
        self.patterns = [(re.compile(pattern), replacement) for pattern, replacement
                         in sorted(patterns, key=lambda item: -len(item[0]))]

    def path(self, path):
        for pattern, replacement in self.patterns:
            found = pattern.match(path)
            if found:
                return found.expand(replacement) + path[found.end():]
        return path

    @staticmethod
    def query(query):
        """The parameters' names, not their values."""
        if not query:
            return ""
        return "&".join(f"{part.partition('=')[0]}=…" for part in query.split("&") if part)

    def target(self, path, query=""):
        query = self.query(query)
        return self.path(path) + (f"?{query}" if query else "")

    def url(self, url):
        """A URL (a referring page) with its path redacted and its query's values gone."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return "-"
        return urlunsplit(parts._replace(path=self.path(parts.path),
                                         query=self.query(parts.query), fragment=""))

    def text(self, text):
        """A log line with every path in it redacted (after a space or a quote)."""
        def redacted(found):
            path, _, query = found.group(2).partition("?")
            return found.group(1) + self.target(path, query)
        return re.sub(r"(^|[\s\"'])(/[^\s\"']*)", redacted, text)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message with its paths redacted."""

    def __init__(self, redactor):
        super().__init__()
        self.redactor = redactor

    def filter(self, record):
        record.msg, record.args = self.redactor.text(record.getMessage()), None
        return True


class LoggedTarget:
    """WSGI middleware: puts the redacted path and referring page in the environ, for the
    access log written once the answer is sent."""

    def __init__(self, wsgi_app, redactor):
        self.wsgi_app = wsgi_app
        self.redactor = redactor

    def __call__(self, environ, start_response):
        environ[LOGGED_TARGET] = self.redactor.target(environ.get("PATH_INFO") or "/",
                                                      environ.get("QUERY_STRING", ""))
        referer = environ.get("HTTP_REFERER")
        environ[LOGGED_REFERER] = self.redactor.url(referer) if referer else "-"
        return self.wsgi_app(environ, start_response)


def init_app(app):
    """Once the blueprints are registered: the environ for the access log, and the filters on
    the development server's and the app's loggers."""
    redactor = Redactor(app.url_map)
    app.wsgi_app = LoggedTarget(app.wsgi_app, redactor)
    for logger in (logging.getLogger("werkzeug"), app.logger):
        for old in [f for f in logger.filters if isinstance(f, RedactingFilter)]:
            logger.removeFilter(old)
        logger.addFilter(RedactingFilter(redactor))
    return redactor
