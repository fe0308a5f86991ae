"""Forms of the counter screen. Every action form carries a one-time idempotency key."""
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from loyalty.email_addresses import DeliverableEmail
from loyalty.forms import (
    OUTDATED,
    Form,
    IdempotencyKeyField,
    IdField,
    WholeNumberField,
)
from loyalty.services.engine.points import MAX_PURCHASE_CENTS
from loyalty.services.engine.stamps import MAX_STAMPS_AT_ONCE

MAX_AMOUNT = Decimal(MAX_PURCHASE_CENTS) / 100
LANGUAGES = (("lb", "Lëtzebuergesch"), ("fr", "Français"), ("de", "Deutsch"), ("en", "English"))


class ActionForm(Form):
    idempotency_key = IdempotencyKeyField()
    pin = PasswordField(_l("Staff PIN"), validators=[
        Optional(), Regexp(r"^[0-9]{4,8}\Z", message=_l("A PIN is 4 to 8 digits."))])
    staff_pin_id = WholeNumberField(validators=[Optional()])


class StampForm(ActionForm):
    quantity = WholeNumberField(_l("How many stamps"), validators=[Optional()], min=1,
                                max=MAX_STAMPS_AT_ONCE,
                                message=_l("Give between 1 and %(most)s stamps at once.",
                                           most=MAX_STAMPS_AT_ONCE))


class EarnForm(ActionForm):
    amount = StringField(_l("Purchase amount"), validators=[DataRequired(_l("Enter the purchase amount."))])
    order_reference = StringField(_l("Order reference (optional)"), validators=[Optional(), Length(max=64)])

    def validate_amount(self, field):
        text = (field.data or "").replace(",", ".").strip()
        if len(text) > 20:
            raise ValidationError(_l("Enter an amount like 12.50."))
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise ValidationError(_l("Enter an amount like 12.50.")) from exc
        if (not value.is_finite() or value <= 0 or value > MAX_AMOUNT
                or value.as_tuple().exponent < -2):
            raise ValidationError(_l("Enter an amount like 12.50."))
        self.amount_cents = int(value * 100)


class RedeemForm(ActionForm):
    reward_id = IdField()


class VoidForm(ActionForm):
    transaction_id = IdField()
    amount = WholeNumberField(_l("How much to take back"), validators=[Optional()],
                              message=_l("Void a whole number, at least 1."))


UNLOCK_WAYS = ("pin", "password")
#: What was typed on an action sheet whose PIN locked: it goes through the unlock sheet and
#: comes back on the action sheet once unlocked.
CARRIED_THROUGH_UNLOCK = ("amount", "order_reference", "quantity")


class UnlockForm(Form):
    """A manager's word for unlocking a PIN: their manager PIN, or their email and password."""

    pin = PasswordField(_l("Manager PIN"), validators=[
        Optional(), Regexp(r"^[0-9]{4,8}\Z", message=_l("A PIN is 4 to 8 digits."))])
    staff_pin_id = WholeNumberField(validators=[Optional()])
    email = StringField(_l("Email"), validators=[Optional(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=200)])
    #: the way chosen on the sheet ("pin" or "password"): the other way's fields, hidden
    #: but still sent, are ignored
    way = StringField(validators=[Optional(), AnyOf(UNLOCK_WAYS, OUTDATED)])

    def validate(self, extra_validators=None):
        if not super().validate(extra_validators):
            return False
        if self.way.data == "password":
            self.pin.data = None
        elif self.way.data == "pin":
            self.email.data = self.password.data = None
        if not (self.pin.data or (self.email.data and self.password.data)):
            self.form_errors.append(_l(
                "Tap a manager's name and enter their PIN, or enter a manager's email and "
                "password."))
            return False
        return True


class EnrollForm(Form):
    idempotency_key = IdempotencyKeyField()
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the customer's name.")), Length(max=120)])
    email = StringField(_l("Email"), validators=[
        Optional(), DeliverableEmail(_l("Enter a valid email address, like name@example.com.")), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=32)])
    language = SelectField(
        _l("Language"), choices=[SelectChoice(code, label) for code, label in LANGUAGES],
        validate_choice=False, validators=[AnyOf([code for code, _label in LANGUAGES], OUTDATED)])

    def validate_phone(self, field):
        if not field.data and not self.email.data:
            raise ValidationError(_l("Enter an email address or a phone number."))


class StoreForm(Form):
    store_id = IdField()
