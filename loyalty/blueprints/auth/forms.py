from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from loyalty.email_addresses import DeliverableEmail
from loyalty.forms import Form, IdField
from loyalty.services.platform.accounts import PASSWORD_LENGTH_MESSAGE, password_length_ok

#: What the sign-in form accepts; a longer password cannot be anyone's and simply fails.
SIGN_IN_PASSWORD_LENGTH = 200


def _email_field():
    return EmailField(_l("Email"), validators=[
        DataRequired(_l("Enter your email address.")),
        DeliverableEmail(_l("Enter a valid email address, like name@example.com.")),
        Length(max=254),
    ], render_kw={"autocomplete": "username"})


class LoginForm(Form):
    email = _email_field()
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=SIGN_IN_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class ForgotPasswordForm(Form):
    email = _email_field()


class PasswordForm(Form):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")),
                    Length(max=SIGN_IN_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Choose a new password."))],
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        _l("New password again"),
        validators=[EqualTo("new_password", _l("The two new passwords differ. Type them again."))],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_new_password(self, field):
        if not password_length_ok(field.data):
            raise ValidationError(PASSWORD_LENGTH_MESSAGE)


class SetPasswordForm(Form):
    new_password = PasswordField(_l("Choose a password"), validators=[
        DataRequired(_l("Choose a new password."))], render_kw={"autocomplete": "new-password"})
    confirm_password = PasswordField(_l("The same password again"), validators=[
        EqualTo("new_password", _l("The two new passwords differ. Type them again."))],
        render_kw={"autocomplete": "new-password"})

    def validate_new_password(self, field):
        if not password_length_ok(field.data):
            raise ValidationError(PASSWORD_LENGTH_MESSAGE)


class InvitationAnswerForm(Form):
    """Accept or decline an invitation: the button pressed is the answer."""

    accept = SubmitField(_l("Accept"))
    decline = SubmitField(_l("Decline"))


class ChooseMerchantForm(Form):
    """The top bar's switcher: the merchant to act for."""

    merchant_id = IdField()
