"""The owner's win-back form (the merchant forms module is full: one module per page)."""
from flask_babel import lazy_gettext as _l
from wtforms.validators import InputRequired

from loyalty.forms import CheckboxField, Form, WholeNumberField
from loyalty.services.merchant.win_back_settings import LIMITS


def _number(label, name):
    low, high, message = LIMITS[name]
    return WholeNumberField(label, validators=[InputRequired(message)], min=low, max=high,
                            message=message)


class WinBackForm(Form):
    """On or off, after how many quiet days, the bonus (0 = none) and how long it stays."""

    winback_enabled = CheckboxField(_l("Send the win-back email"))
    winback_inactive_days = _number(_l("Days without a visit before the email"),
                                    "winback_inactive_days")
    winback_bonus_points = _number(_l("Welcome-back gift in points"), "winback_bonus_points")
    winback_bonus_stamps = _number(_l("Welcome-back gift in stamps"), "winback_bonus_stamps")
    winback_bonus_days = _number(_l("Days the gift stays on the card"), "winback_bonus_days")

    def values(self):
        return {name: self[name].data for name in
                ("winback_enabled", "winback_inactive_days", "winback_bonus_points",
                 "winback_bonus_stamps", "winback_bonus_days")}
