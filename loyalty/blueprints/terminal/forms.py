"""Forms of the counter screen. Every action form carries a one-time idempotency key."""
import uuid
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from loyalty.models import MAX_ID
from loyalty.services.points import MAX_PURCHASE_CENTS

MAX_AMOUNT = Decimal(MAX_PURCHASE_CENTS) / 100
#: What staff see when a hidden field of a form came back missing or altered.
OUTDATED = _l("This form is out of date. Close it and open it again.")
ID_RANGE = NumberRange(min=1, max=MAX_ID, message=OUTDATED)
KEY_VALIDATORS = [DataRequired(OUTDATED), Length(max=64, message=OUTDATED)]


def new_key():
    return uuid.uuid4().hex


class ActionForm(FlaskForm):
    idempotency_key = HiddenField(validators=KEY_VALIDATORS, default=new_key)
    pin = PasswordField(_l("Staff PIN"), validators=[
        Optional(), Regexp(r"^\d{4,8}$", message=_l("A PIN is 4 to 8 digits."))])
    staff_pin_id = IntegerField(validators=[Optional(), ID_RANGE])


class EarnForm(ActionForm):
    amount = StringField(_l("Purchase amount"), validators=[DataRequired(_l("Enter the purchase amount."))])
    order_reference = StringField(_l("Order reference (optional)"), validators=[Optional(), Length(max=64)])

    def validate_amount(self, field):
        try:
            value = Decimal((field.data or "").replace(",", ".").strip())
        except InvalidOperation as exc:
            raise ValidationError(_l("Enter an amount like 12.50.")) from exc
        if (not value.is_finite() or value <= 0 or value > MAX_AMOUNT
                or value.as_tuple().exponent < -2):
            raise ValidationError(_l("Enter an amount like 12.50."))
        self.amount_cents = int(value * 100)


class RedeemForm(ActionForm):
    reward_id = IntegerField(validators=[DataRequired(OUTDATED), ID_RANGE])


class VoidForm(ActionForm):
    transaction_id = IntegerField(validators=[DataRequired(OUTDATED), ID_RANGE])
    amount = IntegerField(_l("How much to take back"), validators=[
        Optional(), NumberRange(min=1, max=MAX_ID, message=_l("Void at least 1."))])


class EnrollForm(FlaskForm):
    idempotency_key = HiddenField(validators=KEY_VALIDATORS, default=new_key)
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the customer's name.")), Length(max=120)])
    email = StringField(_l("Email"), validators=[
        Optional(), Email(_l("Enter a valid email address, like name@example.com.")), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=32)])
    language = SelectField(_l("Language"), choices=[
        SelectChoice(code, label) for code, label in
        (("lb", "Lëtzebuergesch"), ("fr", "Français"), ("de", "Deutsch"), ("en", "English"))])

    def validate_phone(self, field):
        if not field.data and not self.email.data:
            raise ValidationError(_l("Enter an email address or a phone number."))


class StoreForm(FlaskForm):
    store_id = IntegerField(validators=[DataRequired(OUTDATED), ID_RANGE])
