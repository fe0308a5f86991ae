"""Email addresses that mail can reach, and the names kept for examples and tests.

RFC 2606 and RFC 6761 keep ``example.com`` (``.net``, ``.org``) and the ``.test``,
``.example``, ``.invalid`` and ``.localhost`` domains out of real use: mail to them never
arrives. In development and tests the app delivers nothing (mail stays in ``sent_emails``),
so addresses on them are welcome there; production refuses them, saying why.
"""
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from wtforms.validators import ValidationError

RESERVED_TOP_LEVEL = ("test", "example", "invalid", "localhost")
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")


def reserved_for_tests(domain):
    """Whether ``domain`` is a name no mail is ever delivered to (examples and tests)."""
    domain = domain.strip().rstrip(".").lower()
    return (domain.rpartition(".")[2] in RESERVED_TOP_LEVEL
            or any(domain == name or domain.endswith("." + name) for name in RESERVED_DOMAINS))


class DeliverableEmail:
    """A well-formed address, on a domain mail can reach in production (reserved test names
    are accepted elsewhere). ``message`` is the answer to an address that is not one."""

    def __init__(self, message):
        self.message = message

    def __call__(self, form, field):
        address = (field.data or "").strip()
        local, at, domain = address.rpartition("@")
        if at and reserved_for_tests(domain):
            if current_app.config["ENV_NAME"] == "production":
                raise ValidationError(_("Mail to %(domain)s never arrives: the name is kept for "
                                        "examples and tests. Enter an address the person "
                                        "reads.", domain=domain))
            # email_validator refuses some of these names outright: check the rest of the
            # address on a reserved name it accepts.
            address = f"{local}@{domain.rpartition('.')[0] or domain}.example"
        try:
            validate_email(address, check_deliverability=False)
        except EmailNotValidError as error:
            raise ValidationError(self.message) from error
