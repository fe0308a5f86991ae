"""The form that schedules a happy hour (Program > Happy hours). The service checks the same
rules again and names the field of a refusal; the form says them next to each field."""
import re
from datetime import time

from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from loyalty.forms import OUTDATED, CheckboxField, DayField, Form

TIME = re.compile(r"([01]?[0-9]|2[0-3])[:.h]([0-5][0-9])")
KINDS = (("points", _l("More points")), ("stamps", _l("More stamps")))


class TimeOfDayField(StringField):
    """A time of day typed (or picked) as 14:00; ``time`` holds it."""

    def __init__(self, label=None, validators=None, *, message, **kwargs):
        kwargs.setdefault("render_kw", {"type": "time"})
        super().__init__(label, validators, **kwargs)
        self.message, self.time = message, None

    def process_data(self, value):
        self.time = value if isinstance(value, time) else None
        self.data = value.strftime("%H:%M") if isinstance(value, time) else value

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = (valuelist[0] or "").strip()
        match = TIME.fullmatch(self.data[:5]) if len(self.data) in (4, 5, 8) else None
        self.time = time(int(match.group(1)), int(match.group(2))) if match else None
        if self.time is None:
            raise ValueError(self.message)


class HappyHourForm(Form):
    name = StringField(_l("Name"), validators=[
        DataRequired(_l("Give the happy hour a name, such as “Double points on Tuesday "
                        "afternoons”.")),
        Length(max=80, message=_l("The name is too long (80 characters at most)."))])
    kind = SelectField(_l("What it gives"), validate_choice=False,
                       choices=[SelectChoice(value, label) for value, label in KINDS])
    factor = SelectField(_l("Points multiplied by"), coerce=str, validate_choice=False,
                         choices=[SelectChoice(str(n), f"×{n}") for n in range(2, 11)],
                         default="2")
    extra_stamps = SelectField(_l("Extra stamps per visit"), coerce=str, validate_choice=False,
                               choices=[SelectChoice(str(n), f"+{n}") for n in range(1, 11)],
                               default="1")
    weekdays = SelectMultipleField(_l("Days"), coerce=str, validate_choice=False,
                                   default=[str(day) for day in range(7)])
    start_time = TimeOfDayField(_l("From"), validators=[DataRequired(
        _l("Enter the start time, like 14:00."))],
        message=_l("Enter the start time, like 14:00."))
    end_time = TimeOfDayField(_l("Until (not included)"), validators=[DataRequired(
        _l("Enter the end time, like 17:00."))], message=_l("Enter the end time, like 17:00."))
    starts_on = DayField(_l("First day"), validators=[DataRequired(
        _l("Enter the first day, like 2026-11-21."))])
    ends_on = DayField(_l("Last day (leave empty to keep it running)"),
                       validators=[Optional()])
    all_stores = CheckboxField(_l("At all stores"), default=True)
    store_ids = SelectMultipleField(_l("Or only at these stores"), coerce=str,
                                    validate_choice=False)
    is_active = CheckboxField(_l("On (untick to pause it)"), default=True)

    def set_choices(self, program, stores):
        """The kinds the program uses, and the merchant's stores to tick."""
        kinds = [(value, label) for value, label in KINDS
                 if program is None or (program.has_points if value == "points"
                                        else program.has_stamps)]
        self.kind.choices = [SelectChoice(value, label) for value, label in kinds or KINDS]
        self.stores = {str(store.id): store for store in stores}

    def validate_kind(self, field):
        if field.data not in self.kind_values:
            raise ValidationError(OUTDATED)

    def validate_factor(self, field):
        if self.kind.data == "points" and field.data not in {str(n) for n in range(2, 11)}:
            raise ValidationError(_l("Choose a multiplier between 2 and 10."))

    def validate_extra_stamps(self, field):
        if self.kind.data == "stamps" and field.data not in {str(n) for n in range(1, 11)}:
            raise ValidationError(_l("Choose between 1 and 10 extra stamps per visit."))

    def validate_weekdays(self, field):
        if not field.data:
            raise ValidationError(_l("Tick at least one day of the week."))
        if any(day not in {str(n) for n in range(7)} for day in field.data):
            raise ValidationError(OUTDATED)

    def validate_end_time(self, field):
        if self.start_time.time and field.time and field.time <= self.start_time.time:
            raise ValidationError(_l("The end must be after the start, on the same day. For an "
                                     "evening that goes past midnight, schedule a second happy "
                                     "hour from 00:00."))

    def validate_ends_on(self, field):
        if field.day and self.starts_on.day and field.day < self.starts_on.day:
            raise ValidationError(_l("The last day cannot be before the first day."))

    def validate_store_ids(self, field):
        if any(store_id not in self.stores for store_id in field.data or ()):
            raise ValidationError(OUTDATED)
        if not self.all_stores.data and not field.data:
            raise ValidationError(_l("Tick the stores where it applies, or choose all stores."))

    @property
    def kind_values(self):
        return [choice.value for choice in self.kind.choices]

    @property
    def day_choices(self):
        """(value, day name, ticked) Monday first, in the page's language."""
        names = get_day_names("wide", locale=str(get_locale() or "en"))
        ticked = set(self.weekdays.data or ())
        return [(str(day), names[day], str(day) in ticked) for day in range(7)]

    @property
    def store_choices(self):
        ticked = set(self.store_ids.data or ())
        return [(store_id, store.name, store_id in ticked)
                for store_id, store in self.stores.items()]

    def values(self):
        kind = self.kind.data
        return {
            "name": self.name.data, "kind": kind,
            "factor": int(self.factor.data) if kind == "points" else None,
            "extra_stamps": int(self.extra_stamps.data) if kind == "stamps" else None,
            "weekdays": [int(day) for day in self.weekdays.data],
            "start_time": self.start_time.time, "end_time": self.end_time.time,
            "starts_on": self.starts_on.day, "ends_on": self.ends_on.day,
            "all_stores": bool(self.all_stores.data),
            "store_ids": [] if self.all_stores.data else [int(s) for s in self.store_ids.data],
            "is_active": bool(self.is_active.data),
        }

    def fill(self, hour):
        """Show ``hour`` to edit (a GET)."""
        self.kind.data = hour.kind
        self.factor.data = str(hour.factor or 2)
        self.extra_stamps.data = str(hour.extra_stamps or 1)
        self.weekdays.data = [str(day) for day in range(7) if hour.weekdays & (1 << day)]
        self.store_ids.data = [str(store.id) for store in hour.stores]
