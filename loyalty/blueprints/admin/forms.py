"""The back office's forms."""
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from loyalty.email_addresses import DeliverableEmail
from loyalty.forms import CheckboxField, Form, WholeNumberField

COMMON_TIMEZONES = ("Europe/Luxembourg", "Europe/Brussels", "Europe/Paris", "Europe/Berlin",
                    "Europe/Amsterdam", "Europe/Zurich", "Europe/Vienna", "Europe/Lisbon",
                    "Europe/London", "UTC")


class MerchantForm(Form):
    name = StringField(_l("Name"), validators=[
        DataRequired(_l("Give the merchant a name.")), Length(max=120)])
    slug = StringField(_l("Web address"), validators=[
        DataRequired(_l("Give the merchant a web address, like cafe-gare.")), Length(max=64)])
    timezone = SelectField(_l("Time zone"), choices=list(COMMON_TIMEZONES),
                           validate_choice=False)
    currency = StringField(_l("Currency"), default="EUR", validators=[Length(max=3)])
    default_locale = SelectField(_l("Main language"), validate_choice=False)
    country = StringField(_l("Country (default phone prefix)"), default="LU",
                          validators=[Length(max=2)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_locale.choices = list(current_app.config["LANGUAGES"].items())

    def values(self):
        return {name: self[name].data for name in ("name", "slug", "timezone", "currency",
                                                    "default_locale", "country")}


class NewMerchantForm(MerchantForm):
    # Left empty, the address is made from the name (a script fills it in as the name is typed).
    slug = StringField(_l("Web address"), validators=[Optional(), Length(max=64)],
                       render_kw={"data-slug-from": "name"})
    owner_name = StringField(_l("Owner's name"), validators=[
        DataRequired(_l("Enter the owner's name.")), Length(max=120)])
    owner_email = StringField(_l("Owner's email"), validators=[
        DataRequired(_l("Enter the owner's email address: the invitation goes there.")),
        Length(max=254),
        DeliverableEmail(_l("Enter a valid email address, like name@example.com."))])


class UserForm(Form):
    name = StringField(_l("Name"), validators=[
        DataRequired(_l("Enter the person's name.")), Length(max=120)])
    email = StringField(_l("Email"), validators=[
        DataRequired(_l("Enter an email address.")), Length(max=254),
        DeliverableEmail(_l("Enter a valid email address, like name@example.com."))])
    is_platform_admin = CheckboxField(_l("Platform admin (full access to this back office)"))


class SettingsForm(Form):
    allow_self_enrollment = CheckboxField(_l("Customers may join online"))
    allow_voids = CheckboxField(_l("Staff may void transactions"))
    void_window_days = WholeNumberField(_l("Staff may void for this many days (managers and "
                                           "owners any time)"), min=0, max=3650,
                                        validators=[InputRequired(_l("Enter a number of days from 0 to 3,650."))],
                                        message=_l("Enter a number of days from 0 to 3,650."))
    allow_cross_location_redemption = CheckboxField(_l("Rewards may be redeemed at any store"))
    pin_lockout_attempts = WholeNumberField(
        _l("Wrong PINs before a PIN locks (empty: the platform's default)"),
        validators=[Optional()], min=1, max=10_000,
        message=_l("Enter a number from 1 to 10,000, or leave it empty."))
    pin_lockout_minutes = WholeNumberField(
        _l("Minutes a locked PIN stays locked (empty: the platform's default)"),
        validators=[Optional()], min=1, max=10_000,
        message=_l("Enter a number from 1 to 10,000, or leave it empty."))

    def values(self):
        return {name: self[name].data for name in (
            "allow_self_enrollment", "allow_voids", "void_window_days",
            "allow_cross_location_redemption", "pin_lockout_attempts", "pin_lockout_minutes")}
