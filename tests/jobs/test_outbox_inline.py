"""Without Redis (the embedded default) the same work runs right after the commit, once."""
import smtplib

import pytest
from sqlalchemy import func, select

from loyalty.extensions import db
from loyalty.models import OutboxMessage, SentEmail
from loyalty.services import outbox
from loyalty.services.customers import enrollment
from loyalty.services.errors import Conflict, NotFound
from loyalty.services.merchant import team
from loyalty.services.platform import job_monitor
from tests import factories
from tests.conftest import run_cli
from tests.jobs.conftest import free_port


def sent():
    db.session.commit()
    return db.session.scalars(select(SentEmail).order_by(SentEmail.id)).all()


def test_an_invitation_is_emailed_once_in_the_shops_language(app, merchant):
    merchant.merchant.default_locale = "fr"
    db.session.commit()
    membership, token = team.invite(merchant.merchant, email="zoe@example.com", name="Zoé",
                                    role="store_staff", store=merchant.stores[0])
    [email] = sent()
    assert (email.to_address, email.locale, email.transport) == ("zoe@example.com", "fr", "stored")
    assert email.subject == "Invitation à rejoindre Café Test"
    assert f"http://127.0.0.1:5000/set-password/{token}" in email.body_text
    assert "Café Test store 1" in email.body_text
    row = db.session.scalar(select(OutboxMessage))
    assert row.delivered_at is not None and row.attempts == 1
    assert outbox.deliver(row.id) is False  # run again: nothing more
    assert len(sent()) == 1


def test_someone_with_an_account_is_asked_to_answer_after_signing_in(app, merchant,
                                                                     other_merchant):
    _membership, token = team.invite(other_merchant.merchant, email=merchant.owner.email,
                                     name="Their owner", role="merchant_owner")
    assert token is None
    [email] = sent()
    assert "Sign in with your usual email and password to accept or decline" in email.body_text
    assert "http://127.0.0.1:5000/invitations" in email.body_text
    assert "set-password" not in email.body_text


def test_a_refused_change_leaves_no_work_behind(app, merchant):
    with pytest.raises(Conflict):
        team.invite(merchant.merchant, email=merchant.owner.email, name="Owner",
                    role="merchant_owner")
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert sent() == []


def test_smtp_sends_text_and_html_and_keeps_only_the_record(make_app, inbox):
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=inbox.port, SMTP_SECURITY="none",
                   MAIL_FROM="Loyalty <hello@loyalty.example>")
    with app.app_context():
        shop = factories.merchant_with_team("Bäckerei Kern", "baeckerei-kern").merchant
        team.invite(shop, email="tom@example.com", name="Tom", role="merchant_owner")
        [email] = sent()
        assert email.transport == "smtp" and email.body_text is None and email.body_html is None
    [message] = inbox.messages
    assert message["To"] == "tom@example.com"
    assert message["From"] == "Bäckerei Kern <hello@loyalty.example>"
    assert message["Message-ID"].startswith("<outbox.")
    parts = {part.get_content_type(): part.get_content()
             for part in message.walk() if not part.is_multipart()}
    assert "/set-password/" in parts["text/plain"]
    assert "Choose my password" in parts["text/html"]


def test_a_failed_send_keeps_the_change_and_an_admin_retry_sends_it(make_app):
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_SECURITY="none")
    with app.app_context():
        shop = factories.merchant_with_team("Café Retry", "cafe-retry").merchant
        membership, _token = team.invite(shop, email="r@example.com", name="R",
                                         role="merchant_owner")
        assert membership.id  # the invitation stands
        row = db.session.scalar(select(OutboxMessage))
        assert row.failed_at is not None and row.attempts == 1
        assert "ConnectionRefusedError" in row.last_error
        [failed] = job_monitor.overview().failed
        assert failed.ref == f"outbox:{row.id}" and failed.what == "email: team_invitation"

        app.config["SMTP_HOST"] = None
        job_monitor.retry(failed.ref)
        assert [email.to_address for email in sent()] == ["r@example.com"]
        with pytest.raises(NotFound):
            job_monitor.retry(failed.ref)  # not failed any more
        assert job_monitor.overview().failed == []


def test_jobs_command_reports_inline_mode_and_the_backlog(app, merchant):
    result = run_cli(app, "loyalty", "jobs")
    assert result.exit_code == 0
    assert "Jobs run inline (no REDIS_URL)" in result.output
    assert "Outbox: 0 waiting" in result.output
    assert "Failed jobs: 0" in result.output


def test_a_mail_servers_bad_hour_does_not_use_up_a_customers_link_emails(make_app, inbox):
    """A link email the mail server refused (tried again later) gives back its unit of the
    recipient's hourly share: the fourth try of the only email still goes out."""
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=inbox.port, SMTP_SECURITY="none",
                   CARD_LINK_RECIPIENT_LIMIT="3 per hour")
    with app.app_context():
        shop = factories.merchant_with_team("Café Link", "cafe-link").merchant
        factories.stamp_program(shop)
        factories.card(shop, "Vera", email="vera@example.com")
        db.session.commit()
        inbox.refuse(3)
        enrollment.resend_card_link(shop, "vera@example.com")  # the first try, refused
        row = db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()))
        for _ in range(2):
            with pytest.raises(smtplib.SMTPException):
                outbox.deliver(row.id, last_attempt=False)
        assert outbox.deliver(row.id) is True
    assert [message["To"] for message in inbox.messages] == ["vera@example.com"]
