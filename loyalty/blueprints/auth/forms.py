from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from loyalty.forms import Form
from loyalty.services.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH


class LoginForm(Form):
    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(_l("Enter your email address.")),
            Email(_l("Enter a valid email address, like name@example.com.")),
            Length(max=254),
        ],
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=MAX_PASSWORD_LENGTH)],
    )


class PasswordForm(Form):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")),
                    Length(max=MAX_PASSWORD_LENGTH)],
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(_l("Choose a new password.")),
            Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH,
                   message=_l("Choose a password of 8 to 200 characters.")),
        ],
    )
    confirm_password = PasswordField(
        _l("New password again"),
        validators=[EqualTo("new_password", _l("The two new passwords differ. Type them again."))],
    )
