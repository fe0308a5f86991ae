"""The optional birthday (day and month, never the year) on the join form and the card page."""
from babel.dates import get_month_names
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SubmitField

from loyalty.forms import Form
from loyalty.services.customers.birthdays import parse_birthday
from loyalty.services.errors import InvalidInput


def month_names():
    """``[(number, name)]`` of the twelve months in the page's language."""
    names = get_month_names("wide", context="stand-alone", locale=str(get_locale()))
    return [(number, names[number]) for number in range(1, 13)]


class BirthdayFields(Form):
    """Both selects or neither; a day the month does not have is refused on the day."""

    birth_day = SelectField(_l("Day"), validate_choice=False)
    birth_month = SelectField(_l("Month"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.birth_day.choices = [("", "—")] + [(str(n), str(n)) for n in range(1, 32)]
        self.birth_month.choices = [("", "—")] + [(str(n), name) for n, name in month_names()]
        self.birthday = (None, None)

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        try:
            self.birthday = parse_birthday(self.birth_day.data, self.birth_month.data)
        except InvalidInput as refusal:
            field = self[refusal.details.get("field", "birth_day")]
            field.errors = [*field.errors, str(refusal.message)]
            return False
        return valid

    def birthday_data(self, customer):
        """Show the customer's birthday in the selects."""
        self.birth_day.data = str(customer.birth_day) if customer.birth_day else ""
        self.birth_month.data = str(customer.birth_month) if customer.birth_month else ""


class BirthdayForm(BirthdayFields):
    """The card page's birthday: save it, or remove it."""

    remove = SubmitField(_l("Remove my birthday"))

    def validate(self, extra_validators=None):
        if self.remove.data:  # what the selects say does not matter
            self.birthday = (None, None)
            return Form.validate(self, extra_validators)
        return super().validate(extra_validators)
