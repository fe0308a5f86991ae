"""The form base class and the field types every form builds on.

Parsing is total: whatever a client sends in a field (a 400-digit number, a sign, a file, an
empty value), the field ends up with a value or with one of its own messages, never an
exception. Forms read the submitted form fields only: a missing field stays missing (it does
not fall back to its default), and a file counts only where the form has a file field.
"""
import re
import uuid
from datetime import date
from decimal import Decimal

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from flask_wtf.form import _Auto
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import BooleanField, HiddenField, IntegerField, StringField
from wtforms.validators import InputRequired, Regexp, StopValidation, ValidationError

from loyalty import typed_input
from loyalty.i18n import wtforms_translations
from loyalty.models import MAX_ID

#: What a person sees when a hidden field of a form came back missing or altered.
OUTDATED = _l("This form is out of date. Close it and open it again.")

DIGITS = re.compile(r"[0-9]+")
MONEY = re.compile(r"[0-9]{1,9}(\.[0-9]{1,2})?")
KEY_PATTERN = r"^[A-Za-z0-9_-]{1,64}\Z"
#: Days a person may ask for (beyond them, time zone arithmetic leaves the calendar).
FIRST_YEAR, LAST_YEAR = 2000, 2100


def field_error(form, refusal, default):
    """Show a service's refusal under the field it names (else under ``default``)."""
    field = form._fields.get(refusal.details.get("field"), form[default])
    field.errors = [*field.errors, str(refusal.message)]


def new_key():
    return uuid.uuid4().hex


class Form(FlaskForm):
    """A FlaskForm that reads exactly what was posted.

    Flask-WTF gives a form its defaults when the body is empty and reads JSON bodies as form
    data; the app refuses non-form bodies before any view runs, and here an empty post is an
    empty form, so a required hidden field that is missing is refused, not invented.
    """

    class Meta:
        def get_translations(self, form):
            return wtforms_translations

        def wrap_formdata(self, form, formdata):
            if formdata is not _Auto and formdata is not None:
                return formdata
            if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
                # a page shown again after a sign-in or a language switch: what was typed
                return typed_input.refill(form)
            if formdata is None:
                return None
            file_fields = {name for name, field in form._fields.items()
                           if isinstance(field, FileField)}
            files = MultiDict([(name, upload) for name, upload in request.files.items(multi=True)
                               if name in file_fields])
            return CombinedMultiDict((files, request.form)) if files else request.form


class CheckboxField(BooleanField):
    """A checkbox: ticked when the browser sends its value ("y"), unticked when it sends
    nothing; any other value is an altered form, refused instead of read as "ticked"."""

    def process_formdata(self, valuelist):
        self.sent = valuelist[0] if valuelist else None
        super().process_formdata(valuelist)

    def pre_validate(self, form):
        if getattr(self, "sent", None) not in (None, "", "y"):
            raise ValidationError(OUTDATED)


def sent(form, field):
    """A validator for a field that may be left empty but must come with the form: a post
    without it is an altered or outdated form, not a wish to clear it."""
    if request.method == "POST" and not field.raw_data:
        raise StopValidation(OUTDATED)


class WholeNumberField(IntegerField):
    """A whole number typed as digits, between ``min`` and ``max``; anything else (a sign, a
    decimal point, 400 digits) gives the field ``message`` as its error."""

    def __init__(self, label=None, validators=None, *, min=1, max=MAX_ID, message=OUTDATED,
                 **kwargs):
        super().__init__(label, validators, **kwargs)
        self.min, self.max, self.message = min, max, message

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = valuelist[0].strip() if isinstance(valuelist[0], str) else None
        if text == "":
            self.data = None
            return
        self.data = None
        if text is None or not DIGITS.fullmatch(text) or len(text) > len(str(self.max)):
            raise ValueError(self.message)
        value = int(text)
        if not self.min <= value <= self.max:
            raise ValueError(self.message)
        self.data = value


def IdField(message=OUTDATED):  # noqa: N802 - reads like a field class where forms use it
    """A hidden record id: required, and a valid id or the form is out of date."""
    return WholeNumberField(validators=[InputRequired(message)], message=message)


def IdempotencyKeyField():  # noqa: N802
    """The one-time key an action form carries. It must come back as rendered: a request
    without it (or with an altered one) is refused rather than given a fresh key."""
    return HiddenField(validators=[InputRequired(OUTDATED), Regexp(KEY_PATTERN, message=OUTDATED)],
                       default=new_key)


class MoneyField(StringField):
    """An amount in the merchant's currency typed as "12.50" or "12,50", kept as whole cents
    in ``cents``; at most ``max_cents``. Anything else is the field's own message."""

    def __init__(self, label=None, validators=None, *, max_cents=1_000_000_00, message=None,
                 **kwargs):
        super().__init__(label, validators, **kwargs)
        self.max_cents = max_cents
        self.message = message or _l("Enter an amount like 12.50.")
        self.cents = None

    def process_data(self, value):
        """Rendering: ``value`` comes in cents."""
        self.cents = value
        self.data = f"{Decimal(value) / 100:.2f}" if isinstance(value, int) else value

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = valuelist[0].strip()
        self.cents = None
        if self.data == "":
            return
        self.cents = parse_cents(self.data, self.max_cents)
        if self.cents is None:
            raise ValueError(self.message)


def parse_cents(text, max_cents):
    """Whole cents from "12.50" / "12,50" / "12", or None for anything else or out of range."""
    text = (text or "").replace(",", ".").strip()
    if not MONEY.fullmatch(text):
        return None
    cents = int(Decimal(text) * 100)
    return cents if 0 <= cents <= max_cents else None


class DayField(StringField):
    """A calendar day typed (or picked) as 2026-11-21; ``day`` holds the date."""

    def __init__(self, label=None, validators=None, *, message=None, **kwargs):
        kwargs.setdefault("render_kw", {"type": "date"})
        super().__init__(label, validators, **kwargs)
        self.message = message or _l("Enter a date like 2026-11-21.")
        self.day = None

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = valuelist[0].strip()
        self.day = None
        if self.data:
            try:
                self.day = date.fromisoformat(self.data) if len(self.data) == 10 else None
            except ValueError:
                self.day = None
            if self.day is None or not FIRST_YEAR <= self.day.year <= LAST_YEAR:
                self.day = None
                raise ValueError(self.message)
