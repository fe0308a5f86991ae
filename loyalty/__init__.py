"""The loyalty platform: ``create_app`` builds a configured Flask application."""
import os

from babel import Locale
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from loyalty import access_log, cli, colours, dates, headers, links, logs, metrics, request_guard
from loyalty.blueprints import (
    admin,
    api,
    api_docs,
    auth,
    media,
    merchant,
    ops,
    storefront,
    terminal,
    wallet,
)
from loyalty.config import DEFAULT_SECRET_KEY, Config
from loyalty.database import bind_replica, configure_engine, configure_replica
from loyalty.errors import register_errorhandlers
from loyalty.extensions import (
    attempt_counters,
    babel,
    csrf,
    db,
    login_manager,
    migrate,
    redis_client,
)
from loyalty.i18n import LANGUAGE_COOKIE, install_template_gettext
from loyalty.services import outbox  # noqa: F401 - mail and wallet_sync register outbox handlers
from loyalty.services.delivery import mail  # noqa: F401
from loyalty.services.integrations import webhook_events  # noqa: F401 - registers listeners
from loyalty.services.merchant import fraud_checks  # noqa: F401 - registers listeners
from loyalty.services.platform import sessions  # noqa: F401
from loyalty.services.wallets import sync as wallet_sync  # noqa: F401
from loyalty.tenancy import tenancy

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def create_app(overrides=None):
    """Build the app from the environment, then apply ``overrides`` (a dict, used by tests)."""
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    config = Config(app.instance_path)
    app.config.update(config.as_dict())
    app.config.update(overrides or {})
    check_production_settings(app)
    if app.config["PROXY_FIX"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    logs.init_app(app)  # first: the clock starts before, and the line ends after, every hook
    metrics.init_app(app)  # before the guard: its refusals are timed and counted too
    request_guard.register(app)  # before the extensions' hooks: nothing reads a refused body
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_request_hooks(app)
    cli.register_commands(app)
    access_log.init_app(app)  # reads the routes: after the blueprints
    return app


def check_production_settings(app):
    config = app.config
    if config["SMTP_SECURITY"] not in ("starttls", "ssl", "none"):
        raise RuntimeError(f"SMTP_SECURITY must be starttls, ssl or none, not "
                           f"{config['SMTP_SECURITY']!r}.")
    if config["ENV_NAME"] != "production":
        return
    if config["SECRET_KEY"] in (DEFAULT_SECRET_KEY, "", None):
        raise RuntimeError(
            "Refusing to start in production with the default SECRET_KEY. "
            "Set SECRET_KEY to a long random value (python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))')."
        )
    if not config["PUBLIC_BASE_URL"]:
        raise RuntimeError("Refusing to start in production without PUBLIC_BASE_URL: links in "
                           "emails would point at this machine. Set it to the site's public "
                           "address, like https://loyalty.example.com.")


def select_locale():
    """The visitor's explicit choice (remembered in a cookie), then the language of the
    customer whose card is shown or of the signed-in account, then the browser's, then the
    merchant's default on a shop's page, then English."""
    languages = app_languages()
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if chosen in languages:
        return chosen
    if g.get("page_locale") in languages:  # a customer page in its customer's language
        return g.page_locale
    if current_user and current_user.is_authenticated and current_user.preferred_locale in languages:
        return current_user.preferred_locale
    return (request.accept_languages.best_match(list(languages))
            or (g.get("merchant_locale") if g.get("merchant_locale") in languages else None)
            or "en")


def select_timezone():
    """Dates and times on the merchant's wall clock: the signed-in person's merchant, or the
    shop whose customer page is shown."""
    if has_request_context():
        if g.get("page_timezone"):
            return g.page_timezone
        if current_user and current_user.is_authenticated:
            merchant = tenancy.merchant
            if merchant is not None:
                return merchant.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def select_country():
    """The country dates are written for: the shop whose page is shown, else the signed-in
    person's merchant (an email's merchant while it is written: ``dates.written_for``)."""
    if g.get("page_country"):
        return g.page_country
    if has_request_context() and current_user and current_user.is_authenticated:
        merchant = tenancy.merchant
        if merchant is not None:
            return merchant.country
    return None


def app_languages():
    return current_app.config["LANGUAGES"]


def register_extensions(app):
    bind_replica(app.config)  # DATABASE_REPLICA_URL: the lag-tolerant reads' own engine
    db.init_app(app)
    with app.app_context():
        # 0: no pings, or SQLAlchemy's own at every checkout (``config.py``)
        idle = app.config["DB_POOL_PING_IDLE_SECONDS"] if app.config["DB_POOL_PRE_PING"] else 0
        for engine in db.engines.values():
            configure_engine(engine, ping_idle_seconds=idle if idle > 0 else None)
        configure_replica(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    install_template_gettext(app)
    dates.install(app, select_country)
    links.install(app)
    colours.install(app)
    attempt_counters.init_app(app)
    redis_client.init_app(app)


@login_manager.user_loader
def load_user(session_token):
    return sessions.load_session_user(session_token)


def register_blueprints(app):
    for blueprint in (auth.bp, media.bp, terminal.bp, merchant.bp, admin.bp, storefront.bp,
                      wallet.bp, api.bp, api_docs.bp, ops.bp):
        app.register_blueprint(blueprint)


def register_request_hooks(app):
    """Template globals, security headers and the Vary header on every response."""
    app.add_template_global(tenancy, "tenancy")  # the top bar's shop switcher

    @app.context_processor
    def inject_languages():
        return {"languages": app.config["LANGUAGES"], "current_locale": str(get_locale())}

    @app.template_global()
    def language_name(code):
        """A language's name in the reader's language ("French", "Französisch")."""
        return Locale.parse(code).get_display_name(str(get_locale())) or code

    @app.template_global()
    def customer_name(customer):
        """The customer's name, or what stands for it once they erased their data."""
        return customer.name or _l("Deleted customer")

    headers.register(app)

    @app.after_request
    def hand_over_outbox(response):
        """Work committed outside ``write_transaction`` is handed over before the response."""
        outbox.dispatch_committed()
        return response

    @app.after_request
    def vary_on_htmx(response):
        response.vary.add("HX-Request")
        return response
