"""Forms of the owners' pages. Every message is the field's own, in the user's language."""
import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import (
    BooleanField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

from loyalty.blueprints.merchant.expiry_rule_form import (
    EXPIRY_RULE_FIELDS,
    ExpiryRuleFields,
    expiry_rule_data,
)
from loyalty.forms import (
    OUTDATED,
    CheckboxField,
    DayField,
    Form,
    MoneyField,
    WholeNumberField,
    sent,
)

PROGRAM_TYPES = (("stamps", _l("Stamp card")), ("points", _l("Points")),
                 ("hybrid", _l("Stamps and points")))
STAMP_FIELDS = ("stamps_target", "stamp_reward_description", "stamp_reward_value",
                "cooldown_minutes", "max_stamps_per_day")
POINT_FIELDS = ("points_per_euro", "point_value", "minimum_purchase", "minimum_redemption_points",
                "welcome_bonus_points", "points_expiration_days", "expiry_warning_days",
                *EXPIRY_RULE_FIELDS)
COLOR = re.compile(r"^#[0-9a-fA-F]{6}\Z")
POINT_VALUE = re.compile(r"^[0-9]{1,4}([.,][0-9]{1,4})?\Z")


def _number(label, low, high, message, *, required=True, since=None):
    first = InputRequired(message) if required else Optional()
    validators = [first] if since is None else [since, first]
    return WholeNumberField(label, validators=validators, min=low, max=high, message=message)


def _newer_than_the_page(form, field):
    """The counter-without-connection part came after some pages were shown (a tab left open
    across an update): a post without it is not checked there, and the saved values stay."""
    if not form.offline_part_sent():
        raise StopValidation()


class ProgramForm(ExpiryRuleFields, Form):
    """Everything a program needs; only the fields of the chosen type are checked."""

    program_type = SelectField(
        _l("Kind of program"), choices=[SelectChoice(value, label) for value, label in PROGRAM_TYPES],
        validate_choice=False, validators=[AnyOf([value for value, _ in PROGRAM_TYPES], OUTDATED)])
    card_name = StringField(_l("Card name"), validators=[
        DataRequired(_l("Give the card a name customers will recognise.")), Length(max=120)])
    # Stamps
    stamps_target = _number(_l("Stamps for a reward"), 1, 100,
                            _l("Enter a number of stamps from 1 to 100."))
    stamp_reward_description = StringField(_l("The reward"), validators=[
        DataRequired(_l("Say what the reward is, for example “a free coffee”.")), Length(max=200)])
    stamp_reward_value = MoneyField(_l("What the reward is worth"), validators=[
        InputRequired(_l("Enter what the reward is worth, for example 3.50."))],
        max_cents=1_000_00)
    cooldown_minutes = _number(_l("Minutes between two stamps on one card"), 0, 1440,
                               _l("Enter minutes from 0 to 1440."))
    max_stamps_per_day = _number(_l("Stamps per card per day, at most"), 1, 100,
                                 _l("Enter a number from 1 to 100."))
    # Points
    points_per_euro = _number(_l("Points per euro spent"), 0, 1000,
                              _l("Enter a number of points from 0 to 1000."))
    point_value = StringField(_l("Value of one point, in cents"), validators=[
        InputRequired(_l("Enter what one point is worth, for example 1 or 0.5.")),
        Regexp(POINT_VALUE, message=_l("Enter what one point is worth, for example 1 or 0.5."))])
    minimum_purchase = MoneyField(_l("Smallest purchase that earns points"), validators=[Optional()],
                                  max_cents=10_000_00)
    minimum_redemption_points = _number(_l("Fewest points a customer can redeem"), 0, 1_000_000,
                                        _l("Enter a number of points from 0 to 1,000,000."),
                                        required=False)
    welcome_bonus_points = _number(_l("Welcome bonus"), 0, 100_000,
                                   _l("Enter a number of points from 0 to 100,000."),
                                   required=False)
    points_expiration_days = _number(_l("Points expire after this many days without a visit"),
                                     1, 3650, _l("Enter days from 1 to 3650, or leave it empty."),
                                     required=False)
    expiry_warning_days = _number(_l("Warn customers this many days before"), 0, 365,
                                  _l("Enter days from 0 to 365."), required=False)
    require_staff_pin = CheckboxField(_l("Staff enter their PIN for every action"))
    # The counter without connection (shown for every kind of program)
    offline_enabled = CheckboxField(_l("Let the counter keep working without a connection"))
    offline_max_actions = _number(_l("Actions a tablet may keep, at most"), 1, 500,
                                  _l("Enter a number of actions from 1 to 500."),
                                  since=_newer_than_the_page)
    offline_max_points = _number(_l("Points a tablet may keep, at most"), 0, 100_000,
                                 _l("Enter a number of points from 0 to 100,000."),
                                 since=_newer_than_the_page)

    def kind(self):
        return self.program_type.data if self.program_type.data in ("stamps", "points") else "hybrid"

    def relevant(self, name):
        kind = self.kind()
        if name in STAMP_FIELDS:
            return kind in ("stamps", "hybrid")
        if name in POINT_FIELDS:
            return kind in ("points", "hybrid")
        return True

    def other_kinds_fields(self):
        """The fields the chosen kind does not show: the page keeps what they hold (hidden),
        so switching the kind back brings back what was typed in them."""
        return [field for name, field in self._fields.items() if not self.relevant(name)]

    def validate(self, extra_validators=None):
        super().validate(extra_validators)
        for name, field in self._fields.items():
            if not self.relevant(name):
                field.errors = []
        return not any(field.errors for field in self._fields.values())

    def offline_part_sent(self):
        return bool(self.offline_max_actions.raw_data or self.offline_max_points.raw_data)

    def program_values(self):
        """The service's keyword arguments, for the fields of the chosen type."""
        values = {"program_type": self.kind(), "card_name": self.card_name.data.strip(),
                  "require_staff_pin": self.require_staff_pin.data}
        if self.offline_part_sent():
            values.update(offline_enabled=self.offline_enabled.data,
                          offline_max_actions=self.offline_max_actions.data,
                          offline_max_points=self.offline_max_points.data)
        if self.relevant("stamps_target"):
            values.update(
                stamps_target=self.stamps_target.data,
                stamp_reward_description=self.stamp_reward_description.data.strip(),
                stamp_reward_value_cents=self.stamp_reward_value.cents,
                cooldown_minutes=self.cooldown_minutes.data,
                max_stamps_per_day=self.max_stamps_per_day.data,
            )
        if self.relevant("points_per_euro"):
            values.update(
                points_per_euro=self.points_per_euro.data,
                point_value_cents=Decimal(self.point_value.data.replace(",", ".")),
                minimum_purchase_cents=self.minimum_purchase.cents or 0,
                minimum_redemption_points=self.minimum_redemption_points.data or 0,
                welcome_bonus_points=self.welcome_bonus_points.data or 0,
                points_expiration_days=self.points_expiration_days.data,
                expiry_warning_days=(14 if self.expiry_warning_days.data is None
                                     else self.expiry_warning_days.data),
                **self.expiry_rule_values(),
            )
        return values


def program_form_data(program):
    """A program's values as the form shows them."""
    return {
        "program_type": program.program_type.value, "card_name": program.card_name,
        "stamps_target": program.stamps_target,
        "stamp_reward_description": program.stamp_reward_description,
        "stamp_reward_value": program.stamp_reward_value_cents,
        "cooldown_minutes": program.cooldown_minutes,
        "max_stamps_per_day": program.max_stamps_per_day,
        "points_per_euro": program.points_per_euro,
        "point_value": f"{program.point_value_cents.normalize():f}",
        "minimum_purchase": program.minimum_purchase_cents,
        "minimum_redemption_points": program.minimum_redemption_points,
        "welcome_bonus_points": program.welcome_bonus_points,
        "points_expiration_days": program.points_expiration_days,
        "expiry_warning_days": program.expiry_warning_days, **expiry_rule_data(program),
        "require_staff_pin": program.require_staff_pin,
        "offline_enabled": program.offline_enabled,
        "offline_max_actions": program.offline_max_actions,
        "offline_max_points": program.offline_max_points,
    }


class RewardForm(Form):
    name = StringField(_l("Reward"), validators=[
        DataRequired(_l("Give the reward a name.")), Length(max=120)])
    points_cost = _number(_l("Points it costs"), 1, 1_000_000,
                          _l("Enter a number of points from 1 to 1,000,000."))
    description = StringField(_l("Description (optional)"), validators=[Optional(), Length(max=300)])


class ConfirmForm(Form):
    """A button that only confirms (activate, deactivate, move ...)."""


def _color(label):
    return StringField(label, render_kw={"type": "color"}, validators=[
        InputRequired(_l("Choose a colour.")),
        Regexp(COLOR, message=_l("Enter a colour like #1d5c4d."))])


class BrandingForm(Form):
    card_name = StringField(_l("Card name"), validators=[
        DataRequired(_l("Give the card a name customers will recognise.")), Length(max=120)])
    primary_color = _color(_l("Card colour"))
    secondary_color = _color(_l("Text colour on the card"))
    terms_text = TextAreaField(_l("Terms customers agree to"), validators=[
        Optional(), Length(max=5000)])
    privacy_url = StringField(_l("Link to your privacy notice"), validators=[
        Optional(), Length(max=500)])
    logo = FileField(_l("Logo (PNG, JPEG or WebP, up to 2 MB)"))
    hero_image = FileField(_l("Large picture for your page (PNG, JPEG or WebP, up to 2 MB)"))

    def validate_privacy_url(self, field):
        if not re.match(r"^https?://[^\s/]+\.[^\s]+\Z", field.data or ""):
            raise ValidationError(_l("Enter a full web address, like https://example.lu/privacy."))

    def _check_upload(self, field):
        if field.data and not isinstance(field.data, FileStorage):
            raise ValidationError(_l("Upload a PNG, JPEG or WebP image."))

    validate_logo = validate_hero_image = _check_upload


class StoreForm(Form):
    name = StringField(_l("Store name"), validators=[
        DataRequired(_l("Give the store a name.")), Length(max=120)])
    code = StringField(_l("Short code"), validators=[
        DataRequired(_l("Give the store a short code, like GARE.")),
        Regexp(r"^[A-Za-z0-9-]{1,32}\Z", message=_l("Use letters, digits and dashes only, up to 32."))])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=255)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=32)])
    opening_note = StringField(_l("Opening hours or a note for customers"),
                               validators=[Optional(), Length(max=300)])

    def store_values(self):
        return {name: self[name].data for name in ("name", "code", "address", "phone",
                                                    "opening_note")}


class StaffPinForm(Form):
    staff_name = StringField(_l("Staff member's name"), validators=[
        DataRequired(_l("Enter the staff member's name.")), Length(max=120)])
    store_id = SelectField(_l("Store"), coerce=str, validate_choice=False,
                           validators=[DataRequired(OUTDATED)])

    def set_stores(self, stores):
        self.store_id.choices = [SelectChoice(str(store.id), store.name) for store in stores]
        self.stores = {str(store.id): store for store in stores}

    def validate_store_id(self, field):
        if field.data not in self.stores:
            raise ValidationError(_l("Choose one of your stores."))

    @property
    def store(self):
        return self.stores[self.store_id.data]


class StaffMemberForm(Form):
    staff_name = StringField(_l("Staff member's name"), validators=[
        DataRequired(_l("Enter the staff member's name.")), Length(max=120)])
    can_unlock = CheckboxField(
        _l("Manager PIN: unlocks a locked PIN and voids older rows at the terminal"))


class CardFilterForm(Form):
    """The card list's search box and filters, read from the query string."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    status = SelectField(_l("Cards"), choices=[
        SelectChoice("all", _l("All cards")), SelectChoice("active", _l("Active")),
        SelectChoice("inactive", _l("Deactivated"))],
                         validate_choice=False, default="all")
    store = WholeNumberField(_l("Enrolled at"), validators=[Optional()])
    ready = BooleanField(_l("Reward ready"))
    sort = SelectField(_l("Sort by"), choices=[
        SelectChoice("activity", _l("Last activity")), SelectChoice("name", _l("Name")),
        SelectChoice("points", _l("Points")), SelectChoice("stamps", _l("Stamps"))],
        validate_choice=False, default="activity")
    page = WholeNumberField(validators=[Optional()], max=10_000)


class CardStatusForm(Form):
    reason = StringField(_l("Reason"), validators=[
        DataRequired(_l("Give a reason; it is kept in the card's history.")), Length(max=300)])


ADJUST_KINDS = (SelectChoice("points", _l("Points")), SelectChoice("stamps", _l("Stamps")))


class AdjustForm(Form):
    kind = SelectField(_l("What to adjust"), choices=ADJUST_KINDS, validate_choice=False,
                       validators=[AnyOf(["points", "stamps"], OUTDATED)])
    direction = SelectField(_l("Add or remove"), choices=[SelectChoice("add", _l("Add")),
                                                          SelectChoice("remove", _l("Remove"))],
                            validate_choice=False, validators=[AnyOf(["add", "remove"], OUTDATED)])
    amount = _number(_l("How many"), 1, 100_000, _l("Enter a number from 1 to 100,000."))
    reason = StringField(_l("Reason"), validators=[
        DataRequired(_l("Give a reason for the adjustment; it is kept in the card history.")),
        Length(max=300)])
    confirmed = StringField()

    @property
    def delta(self):
        return self.amount.data if self.direction.data == "add" else -self.amount.data

    @property
    def field_name(self):
        return "stamp_count" if self.kind.data == "stamps" else "points_balance"


class ExportForm(Form):
    """Which transactions to export; read from the query string."""

    class Meta:
        csrf = False

    first_day = DayField(_l("From"), validators=[Optional()])
    last_day = DayField(_l("To"), validators=[Optional()])
    store = WholeNumberField(_l("Store"), validators=[Optional()])

    def validate_last_day(self, field):
        if self.first_day.day and field.day and field.day < self.first_day.day:
            raise ValidationError(_l("The end date comes before the start date."))


ROLE_CHOICES = (SelectChoice("store_staff", _l("Staff")),
                SelectChoice("store_manager", _l("Manager")),
                SelectChoice("merchant_owner", _l("Owner")))


class InviteForm(Form):
    email = StringField(_l("Email"), validators=[
        DataRequired(_l("Enter the person's email address.")), Length(max=254),
        Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z",
               message=_l("Enter a valid email address, like name@example.com."))])
    name = StringField(_l("Name"), validators=[
        DataRequired(_l("Enter the person's name.")), Length(max=120)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, validate_choice=False,
                       default="store_staff",
                       validators=[AnyOf([c.value for c in ROLE_CHOICES], OUTDATED)])
    store_id = WholeNumberField(_l("Store"), validators=[Optional()])


class RoleForm(Form):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, validate_choice=False,
                       validators=[AnyOf([c.value for c in ROLE_CHOICES], OUTDATED)])
    store_id = WholeNumberField(_l("Store"), validators=[Optional()])


def texts_form(program, rewards, languages):
    """The customer-facing texts in each of ``languages``, all in one form: per language
    (``<code>-`` before each name) the program's, then each reward's (``reward-<id>-name`` /
    ``-description``), and the version of them the page showed (``<code>-shown``). Every
    field may stay empty."""
    def optional(limit):
        return [sent, Optional(), Length(max=limit)]

    fields = {}
    for code in languages:
        fields[f"{code}-card_name"] = StringField(_l("Card name"), validators=optional(120))
        if program.has_stamps:
            fields[f"{code}-stamp_reward_description"] = StringField(
                _l("The reward"), validators=optional(200))
        fields[f"{code}-terms_text"] = TextAreaField(_l("Terms customers agree to"),
                                                     validators=optional(5000))
        for reward in rewards:
            fields[f"{code}-reward-{reward.id}-name"] = StringField(
                _l("Name"), validators=optional(120))
            fields[f"{code}-reward-{reward.id}-description"] = StringField(
                _l("Description (optional)"), validators=optional(300))
        fields[f"{code}-shown"] = HiddenField(validators=[Optional(), Length(max=64)])
    return type("TextsForm", (Form,), fields)
