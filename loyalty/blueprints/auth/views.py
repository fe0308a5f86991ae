"""Sign-in, sign-out, the account page, language choice, and the health check."""
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
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFError

from loyalty import typed_input
from loyalty.blueprints.auth.forms import (
    ForgotPasswordForm,
    LoginForm,
    PasswordForm,
    SetPasswordForm,
)
from loyalty.errors import csrf_error
from loyalty.i18n import LANGUAGE_COOKIE, LANGUAGE_COOKIE_SECONDS
from loyalty.redirects import safe_next
from loyalty.services import outbox
from loyalty.services.errors import DomainError
from loyalty.services.merchant import team
from loyalty.services.platform import accounts, health, job_monitor, password_links, sessions
from loyalty.tenancy import home_endpoint
from loyalty.throttle import TooManyAttempts, attempt, reset_budgets, sign_in_budgets, spend

bp = Blueprint("auth", __name__)


def landing(user):
    """Where ``user`` goes after signing in or switching: their shop's home, else the
    invitations waiting for their answer, else a page that says they have no access yet."""
    endpoint = home_endpoint(user)
    if endpoint:
        return url_for(endpoint)
    return url_for("auth.invitations") if team.invitations_for(user) else url_for("auth.no_access")


def _paused_message(pause):
    return ngettext(
        "Too many failed sign-in attempts. Try again in %(num)d minute, or ask your "
        "administrator to check your account.",
        "Too many failed sign-in attempts. Try again in %(num)d minutes, or ask your "
        "administrator to check your account.",
        pause.minutes,
    )


def _start_session(user):
    """A fresh session on sign-in: nothing from before survives (session fixation) but the
    language and what was typed into a form the ended session could not take."""
    language, typed = session.get("lang"), typed_input.kept(user.id)
    session.clear()
    if language:
        session["lang"] = language
    typed_input.put_back(typed)
    sessions.start_session(user, ip_address=request.remote_addr,
                           user_agent=request.user_agent.string)
    login_user(user)


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(landing(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(landing(current_user))
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("auth/login.html", form=form), status
    if current_user.is_authenticated:
        return redirect(landing(current_user))
    email = accounts.normalize_email(form.email.data)
    try:
        # Counted before the password is checked: parallel guesses cannot race past the limit.
        with attempt(sign_in_budgets(email, request.remote_addr)) as tried:
            user = accounts.authenticate(email, form.password.data)
            if user is not None:
                tried.succeeded()
    except TooManyAttempts as pause:
        return render_template("auth/login.html", form=form,
                               error_message=_paused_message(pause)), 429
    if user is None:
        form.password.errors.append(_("Wrong email or password. Check both and try again."))
        return render_template("auth/login.html", form=form), 401
    _start_session(user)
    waiting = len(team.invitations_for(user))
    if waiting:
        flash(ngettext("%(num)d invitation to join a team is waiting for your answer: see "
                       "Invitations on your account page.",
                       "%(num)d invitations to join a team are waiting for your answer: see "
                       "Invitations on your account page.", waiting), "info")
    target = safe_next(request.args.get("next"))
    if target and typed_input.waiting_for(target):
        flash(_("What you typed is back in the form. Check it and send it again."), "info")
    return redirect(target or landing(user))


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    sessions.end_session(current_user.session_id)
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account")
@login_required
def account():
    return _account_page(PasswordForm(formdata=None))


def _account_page(form, status=200):
    return render_template(
        "auth/account.html", form=form, sessions=sessions.live_sessions_of(current_user),
        current_session_id=current_user.session_id,
    ), status


@bp.route("/account/password", methods=["POST"])
@login_required
def change_password():
    form = PasswordForm()
    if not form.validate_on_submit():
        return _account_page(form, 422)
    try:
        with attempt(sign_in_budgets(current_user.email, request.remote_addr),
                     failures=(DomainError,)) as tried:
            user = accounts.change_password(current_user, form.current_password.data,
                                            form.new_password.data)
            tried.succeeded()
    except TooManyAttempts as pause:
        form.current_password.errors.append(_paused_message(pause))
        return _account_page(form, 429)
    except DomainError as refusal:
        form.current_password.errors.append(str(refusal.message))
        return _account_page(form, refusal.status_code)
    _start_session(user)  # every session ended with the old password; this device gets a new one
    flash(_("Your password is changed. Your other devices are signed out."), "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    """End every session of this person, this one included."""
    sessions.end_sessions_of(current_user.id, sessions.SIGNED_OUT_EVERYWHERE)
    logout_user()
    session.clear()
    flash(_("You are signed out on all devices."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    """Ask for a reset link by email. The answer (and the work behind it) is the same whether
    or not an account uses the address typed; asking is limited per address and per email."""
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("auth/forgot_password.html", form=form), status
    email = accounts.normalize_email(form.email.data)
    try:
        spend(reset_budgets(request.remote_addr, email))
    except TooManyAttempts as pause:
        return render_template("auth/forgot_password.html", form=form, error_message=ngettext(
            "Too many reset requests. Try again in %(num)d minute.",
            "Too many reset requests. Try again in %(num)d minutes.", pause.minutes)), 429
    password_links.request_reset(email, locale=str(get_locale()))
    return render_template("auth/forgot_password.html", form=None, sent_to=email)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token):
    """The one-time link of an invitation or a password reset: choose a password, and be
    signed in on this device (every other session of the person ends)."""
    try:
        user = team.user_for_link(token)
    except DomainError as refusal:
        return render_template("auth/set_password.html", form=None,
                               error_message=str(refusal.message)), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            team.set_password_from_link(token, form.new_password.data,
                                        ip_address=request.remote_addr)
        except DomainError as refusal:
            return render_template("auth/set_password.html", form=None,
                                   error_message=str(refusal.message)), refusal.status_code
        _start_session(user)
        flash(_("Your password is set. You are signed in."), "success")
        return redirect(landing(user))
    status = 422 if request.method == "POST" else 200
    response = current_app.make_response(
        (render_template("auth/set_password.html", form=form, user=user), status))
    response.headers["Referrer-Policy"] = "no-referrer"  # the link is a secret
    return response


@bp.route("/no-access")
@login_required
def no_access():
    return render_template("auth/no_access.html"), 403


@bp.post("/lang/<code>")
def set_language(code):
    """The language menu's choice: a form posted with its CSRF token (a link another site
    could open changes nothing), back to the page it was made on."""
    target = safe_next(request.form.get("next") or request.args.get("next"))
    # A form on the page may send its fields along (the join form): they wait for the page.
    typed_input.keep(target, request.form)
    response = redirect(target or url_for("auth.index"))
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        response.set_cookie(LANGUAGE_COOKIE, code, max_age=LANGUAGE_COOKIE_SECONDS,
                            secure=current_app.config["SESSION_COOKIE_SECURE"],
                            httponly=True, samesite="Lax")
    return response


@bp.route("/healthz")
def healthz():
    """200 only when the database and (if configured) Redis answer; with the schedule's health
    and the outbox backlog."""
    checks = health.readiness()  # what /readyz reads, and more below
    healthy = all(value in ("ok", "not configured") for value in checks.values())
    # Reported, not failing the check: restarting a web process does not restart the schedule.
    checks["scheduler"] = ("unknown" if checks["redis"] == "unreachable"
                           else job_monitor.schedule_health())
    if checks["database"] == "ok":
        # Work waiting to go out (emails, pass updates): a growing age means no worker or
        # no Redis; it is reported, and alerting on it is the operator's call.
        pending, age = outbox.backlog()
        checks["outbox"] = {"pending": pending, "oldest_age_seconds": age}
    # A schedule that stopped ticking is a problem to fix ("degraded"), but no reason to take
    # this web process out of the load balancer (200).
    checks["status"] = ("unhealthy" if not healthy
                        else "degraded" if checks["scheduler"] == "stale" else "ok")
    return jsonify(checks), 200 if healthy else 503


@bp.errorhandler(CSRFError)
def form_expired(error):
    """A sign-in form posted after its cookie was gone shows the form again and says why; a
    sign-out without a session has nothing left to end."""
    if request.endpoint == "auth.login":
        return render_template("auth/login.html", form=LoginForm(), error_message=_(
            "This sign-in page was open too long. Sign in again.")), 400
    if request.endpoint == "auth.logout" and not current_user.is_authenticated:
        flash(_("You are signed out."), "info")
        return redirect(url_for("auth.login"))
    return csrf_error(error)
