"""Email: composed from localized templates in the recipient's language, sent through the
outbox (so a change and its email commit together, and an email goes out once).

Settings come from the environment (``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_SECURITY``,
``SMTP_USER``, ``SMTP_PASSWORD``, ``MAIL_FROM``). Without ``SMTP_HOST`` every message is kept
whole in ``sent_emails`` (admins read it in the back office) and written to the log in
development. Either way the ``sent_emails`` row, keyed by the outbox row, is the delivery
record: a job run twice finds it and sends nothing more.
"""
import functools
import importlib
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, parseaddr

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select

from loyalty import dates, metrics
from loyalty.extensions import db
from loyalty.models import Customer, LoyaltyCard, LoyaltyProgram, SentEmail
from loyalty.services import outbox
from loyalty.throttle import Attempt, Budget, TooManyAttempts, give_back, spend

log = logging.getLogger(__name__)

#: template name -> "module:function" that builds its ``Letter`` from the outbox payload
#: (read when it is sent, so it says what is true then), or returns None when it no
#: longer applies.
EMAILS = {
    "team_invitation": "loyalty.services.merchant.team:invitation_letter",
    "expiry_warning": "loyalty.services.delivery.expiry_warnings:warning_letter",
    "birthday": "loyalty.services.delivery.birthdays:birthday_letter",
    "welcome": "loyalty.services.customers.enrollment:welcome_letter",
    "card_link": "loyalty.services.customers.enrollment:card_link_letter",
    "password_reset": "loyalty.services.platform.password_links:reset_letter",
    "webhook_disabled": "loyalty.services.integrations.webhook_sending:disabled_letter",
    "win_back": "loyalty.services.delivery.win_back:win_back_letter",
    "alert_digest": "loyalty.services.delivery.alert_digest:digest_letter",
}
#: template -> the setting ("3 per hour") of how many of it one recipient gets, whoever asked
#: for them and whatever they typed: what one more is asked for beyond it is not sent.
RECIPIENT_BUDGETS = {"card_link": "CARD_LINK_RECIPIENT_LIMIT",
                     "password_reset": "PASSWORD_RESET_RECIPIENT_LIMIT"}


@dataclass
class Letter:
    to: str
    locale: str
    subject: object  # a lazy string: translated in the recipient's language
    sender_name: str | None = None
    context: dict = field(default_factory=dict)
    #: More header fields of the message (a marketing email's ``List-Unsubscribe``:
    #: ``services/delivery/marketing.py``).
    headers: dict = field(default_factory=dict)


def queue_email(template, *, merchant_id=None, **payload):
    """Ask for an email in the current transaction; it is sent once that commits."""
    if template not in EMAILS:
        raise ValueError(f"unknown email template {template!r}")
    return outbox.add("email", {"template": template, **payload}, merchant_id=merchant_id)


def queue_emails(template, payloads, *, merchant_id=None):
    """Many emails of one template in one statement (batch jobs)."""
    if template not in EMAILS:
        raise ValueError(f"unknown email template {template!r}")
    return outbox.add_many("email", [{"template": template, **payload} for payload in payloads],
                           merchant_id=merchant_id)


def brand_color(merchant_id):
    """The merchant's card colour, for the email's header and buttons."""
    return db.session.scalar(select(LoyaltyProgram.primary_color)
                             .where(LoyaltyProgram.merchant_id == merchant_id).limit(1))


def _builder(template):
    module, function = EMAILS[template].split(":")
    return getattr(importlib.import_module(module), function)


def compose(template, letter):
    """Subject, plain text and HTML in the letter's language."""
    languages = current_app.config["LANGUAGES"]
    locale = letter.locale if letter.locale in languages else "en"
    with force_locale(locale), dates.written_for(letter.context.get("country")):
        subject = str(letter.subject)
        text = render_template(f"email/{template}.txt", subject=subject, **letter.context)
        html = render_template(f"email/{template}.html", subject=subject, locale=locale,
                               **letter.context)
    return locale, subject, text, html


@outbox.handler("email")
def send_outbox_email(row):
    """The outbox handler: build and compose in the row's transaction; hand it to SMTP (if
    configured) outside any transaction; record the delivery, or keep the whole message."""
    template = row.payload["template"]
    letter = _builder(template)(row.payload)
    if letter is None:  # no longer true: nothing to send
        return outbox.Effect(record=_skipped)
    share = _recipient_share(template, letter.to)
    if share is None:
        log.info("%s email not sent: its recipient had their share this period", template)
        return outbox.Effect(record=_skipped)
    locale, subject, text, html = compose(template, letter)
    config = current_app.config
    record = functools.partial(_record, template=template, to=letter.to, locale=locale,
                               subject=subject)
    if config["SMTP_HOST"]:
        message = _message(row, letter, subject, text, html)
        return outbox.Effect(record=functools.partial(record, transport="smtp"),
                             send=functools.partial(_send_or_give_back, message, share))
    if config["ENV_NAME"] != "production":
        log.info("Email (no SMTP configured) to %s: %s\n%s", letter.to, subject, text)
    return outbox.Effect(record=functools.partial(record, transport="stored", text=text,
                                                  html=html))


def _recipient_share(template, address):
    """One unit of ``template``'s budget for ``address`` (nothing for templates without one),
    or None when it is used up."""
    setting = RECIPIENT_BUDGETS.get(template)
    if setting is None:
        return Attempt([])
    try:
        return spend([Budget(setting, f"{template}|{address.strip().lower()}")])
    except TooManyAttempts:
        return None


def _send_or_give_back(message, share):
    """Send by SMTP; a send that fails (the job tries again) gives the recipient's unit back,
    so a mail server's bad hour never uses up a customer's share."""
    try:
        _send_smtp(message)
    except BaseException:
        metrics.EMAILS.labels("failed").inc()
        give_back(share)
        raise
    metrics.EMAILS.labels("sent").inc()


def _skipped(row):
    row.payload = {**row.payload, "skipped": True}


def _recipient_erased(row):
    """Whether the card this email was about belongs to a customer who erased their data
    meanwhile. The card's row is share-locked: an erasure (which locks it for update) waits
    for this record, then wipes it with the others."""
    card_id = row.payload.get("card_id")
    if card_id is None:
        return False
    erased_at = db.session.scalar(
        select(Customer.erased_at).join(LoyaltyCard, LoyaltyCard.customer_id == Customer.id)
        .where(LoyaltyCard.id == card_id).with_for_update(read=True, of=LoyaltyCard))
    return erased_at is not None


def _record(row, *, template, to, locale, subject, transport, text=None, html=None):
    if _recipient_erased(row):  # sent before the erasure: keep that it was, not to whom
        to, text, html = "", None, None
    db.session.add(SentEmail(outbox_id=row.id, merchant_id=row.merchant_id, template=template,
                             to_address=to, locale=locale, subject=subject[:300],
                             transport=transport, body_text=text, body_html=html))


def _message(row, letter, subject, text, html):
    config = current_app.config
    name, address = parseaddr(config["MAIL_FROM"])
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = formataddr((letter.sender_name or name, address))
    message["To"] = letter.to
    # The same id every attempt: a receiver that saw the message already may drop a repeat.
    domain = address.rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<outbox.{row.id}.{int(row.created_at.timestamp())}@{domain}>"
    for name, value in letter.headers.items():
        message[name] = value
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def _send_smtp(message):
    config = current_app.config
    security = config["SMTP_SECURITY"]
    host, port, timeout = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TIMEOUT_SECONDS"]
    if security == "ssl":
        connection = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                      context=ssl.create_default_context())
    else:
        connection = smtplib.SMTP(host, port, timeout=timeout)
    with connection as smtp:
        if security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if config["SMTP_USER"]:
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(message)
