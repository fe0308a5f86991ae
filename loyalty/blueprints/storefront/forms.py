"""The customer's join form."""
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from loyalty.blueprints.storefront.birthday_forms import BirthdayFields
from loyalty.email_addresses import DeliverableEmail
from loyalty.forms import CheckboxField, Form


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _language_choices():
    return list(current_app.config["LANGUAGES"].items())


class JoinForm(BirthdayFields):
    first_name = StringField(_l("First name"), validators=[
        DataRequired(_l("Enter your first name.")), Length(max=58)],
        render_kw={"autocomplete": "given-name"})
    last_name = StringField(_l("Last name"), validators=[
        DataRequired(_l("Enter your last name.")), Length(max=60)],
        render_kw={"autocomplete": "family-name"})
    email = StringField(_l("Email"), filters=[_strip], validators=[
        DataRequired(_l("Enter your email address: your card's link goes there.")),
        Length(max=254), DeliverableEmail(_l("Enter a valid email address, like name@example.com."))],
        render_kw={"autocomplete": "email", "inputmode": "email"})
    phone = StringField(_l("Phone (optional)"), validators=[Optional(), Length(max=32)],
                        render_kw={"autocomplete": "tel", "inputmode": "tel"})
    language = SelectField(_l("Language"), validate_choice=False)
    consent = CheckboxField(_l("I accept the program's terms and the processing of my data "
                               "for this loyalty card."))
    #: Offers by email: asked apart from the terms, never ticked for them.
    marketing_consent = CheckboxField(_l("Send me offers by email"))
    #: Left empty by people (it is hidden); bots fill it in.
    website = StringField(_l("Leave this field empty"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = _language_choices()

    def validate_language(self, field):
        if field.data not in current_app.config["LANGUAGES"]:
            raise ValidationError(_l("Choose one of the languages listed."))

    def validate_consent(self, field):
        if not field.data:
            raise ValidationError(_l("Tick the box to accept the terms: we need your "
                                     "consent to keep your card."))


class CardLinkForm(Form):
    """"Send me my card's link again"."""

    email = StringField(_l("Your email"), filters=[_strip], validators=[
        DataRequired(_l("Enter the email address your card is under.")), Length(max=254),
        DeliverableEmail(_l("Enter a valid email address, like name@example.com."))],
        render_kw={"autocomplete": "email", "inputmode": "email"})


class MarketingConsentForm(Form):
    """The card page's "offers by email" switch."""

    marketing_consent = CheckboxField(_l("Send me offers by email"))


class EraseForm(Form):
    """"Delete my card": the customer confirms they understood."""

    confirm = CheckboxField(_l("I understand that my card, its stamps and points are gone for "
                               "good."))

    def validate_confirm(self, field):
        if not field.data:
            raise ValidationError(_l("Tick the box to confirm: this cannot be undone."))
