"""Sign-in, sign-out, language choice, and the health check."""
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import text

from loyalty.blueprints.auth.forms import LoginForm
from loyalty.extensions import db, limiter, redis_client
from loyalty.services.accounts import authenticate, normalize_email
from loyalty.tenancy import home_endpoint

bp = Blueprint("auth", __name__)


def _login_limit():
    return current_app.config["LOGIN_FAILURE_LIMIT"]


def _submitted_email():
    return "login-email:" + normalize_email(request.form.get("email"))


def _failed(response):
    """Only failed sign-ins count toward the limit (a success redirects)."""
    return response.status_code != 302


def safe_next(target):
    """A local path to return to after sign-in, never another host."""
    if not target:
        return None
    parts = urlsplit(target)
    # Browsers read "/\\host" like "//host": refuse backslashes and control characters too.
    if (parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(ch) < 32 for ch in target)):
        return None
    return target


def _landing(user):
    endpoint = home_endpoint(user)
    return url_for(endpoint) if endpoint else url_for("auth.no_access")


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(_landing(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed, key_func=_submitted_email)
def login():
    if current_user.is_authenticated:
        return redirect(_landing(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            # A fresh session on sign-in: nothing from before survives (session fixation).
            language = session.get("lang")
            session.clear()
            if language:
                session["lang"] = language
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or _landing(user))
        form.password.errors.append(_("Wrong email or password. Check both and try again."))
    status = 401 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.errorhandler(429)
def too_many_attempts(error):
    message = _(
        "Too many failed sign-in attempts. Wait 5 minutes, then try again, or ask your "
        "administrator to check your account."
    )
    return render_template("auth/login.html", form=LoginForm(), error_message=message), 429


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/no-access")
@login_required
def no_access():
    return render_template("auth/no_access.html"), 403


@bp.route("/lang/<code>")
def set_language(code):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next")) or url_for("auth.index"))


@bp.route("/healthz")
@limiter.exempt
def healthz():
    """200 only when the database and (if configured) Redis answer."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        db.session.rollback()
        checks["database"] = "unreachable"
    redis = redis_client.connection
    if redis is None:
        checks["redis"] = "not configured"
    else:
        try:
            redis.ping()
            checks["redis"] = "ok"
        except Exception:  # noqa: BLE001
            checks["redis"] = "unreachable"
    healthy = all(value in ("ok", "not configured") for value in checks.values())
    checks["status"] = "ok" if healthy else "unhealthy"
    return jsonify(checks), 200 if healthy else 503
