"""Background work in the back office: queues, failed jobs (with retry), the schedule, and
the emails the platform sent."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from loyalty.blueprints.admin.views import bp
from loyalty.extensions import db
from loyalty.models import MAX_ID, Merchant, SentEmail
from loyalty.services.errors import DomainError
from loyalty.services.platform import job_monitor
from loyalty.tenancy import PLATFORM_ADMIN, roles_required

EMAILS_PER_PAGE = 50
#: An email's HTML shown as sent: its inline styles apply, nothing else runs or loads.
EMAIL_POLICY = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                "frame-ancestors 'none'")


@bp.route("/jobs")
@roles_required(PLATFORM_ADMIN)
def jobs():
    return render_template("admin/jobs.html", state=job_monitor.overview())


@bp.post("/jobs/retry")
@roles_required(PLATFORM_ADMIN)
def retry_job():
    try:
        job_monitor.retry(request.form.get("ref", ""))
    except DomainError as error:
        flash(str(error.message), "error")
    else:
        flash(_("Retried: the job runs again."), "info")
    return redirect(url_for("admin.jobs"))


@bp.route("/emails")
@roles_required(PLATFORM_ADMIN)
def emails():
    page = request.args.get("page", 1, type=int)
    page = page if 0 < page < 100_000 else 1
    rows = db.session.execute(
        select(SentEmail, Merchant.name)
        .outerjoin(Merchant, Merchant.id == SentEmail.merchant_id)
        .order_by(SentEmail.id.desc())
        .limit(EMAILS_PER_PAGE + 1).offset((page - 1) * EMAILS_PER_PAGE)).all()
    total = db.session.scalar(select(func.count(SentEmail.id)))
    return render_template("admin/emails.html", rows=rows[:EMAILS_PER_PAGE], page=page,
                           has_next=len(rows) > EMAILS_PER_PAGE, total=total)


def _sent_email_or_404(email_id):
    sent = db.session.get(SentEmail, email_id) if 0 < email_id <= MAX_ID else None
    return sent or abort(404)


@bp.route("/emails/<int:email_id>")
@roles_required(PLATFORM_ADMIN)
def email(email_id):
    sent = _sent_email_or_404(email_id)
    return render_template("admin/email.html", email=sent)


@bp.route("/emails/<int:email_id>/html")
@roles_required(PLATFORM_ADMIN)
def email_html(email_id):
    """The HTML version as the recipient's mail client shows it, sandboxed: no scripts, no
    forms, no same-origin access."""
    sent = _sent_email_or_404(email_id)
    if not sent.body_html:
        abort(404)
    return sent.body_html, 200, {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": EMAIL_POLICY,
    }
