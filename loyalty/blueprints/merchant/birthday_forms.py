"""The owner's birthday bonus form (the merchant forms module is full: one module per page)."""
from flask_babel import lazy_gettext as _l
from wtforms.validators import InputRequired

from loyalty.forms import Form, WholeNumberField


def _number(label, low, high, message):
    return WholeNumberField(label, validators=[InputRequired(message)], min=low, max=high,
                            message=message)


class BirthdayBonusForm(Form):
    """Points and/or stamps given for a birthday (0 = none), and how many days before."""

    birthday_bonus_points = _number(_l("Birthday bonus in points"), 0, 100_000,
                                    _l("Enter a number of points from 0 to 100,000."))
    birthday_bonus_stamps = _number(_l("Birthday bonus in stamps"), 0, 100,
                                    _l("Enter a number of stamps from 0 to 100."))
    birthday_days_ahead = _number(_l("Days before the birthday"), 0, 30,
                                  _l("Enter days from 0 to 30."))

    def values(self):
        return {name: self[name].data for name in
                ("birthday_bonus_points", "birthday_bonus_stamps", "birthday_days_ahead")}
