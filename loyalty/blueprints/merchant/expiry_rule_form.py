"""The program form's choice of how points expire (``ProgramForm`` takes these fields):
after a period without a visit, or by the month they were earned (``engine/point_lots``)."""
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField
from wtforms.validators import AnyOf, Optional

from loyalty.forms import OUTDATED, WholeNumberField

EXPIRY_RULES = (("inactivity", _l("After a period without a visit")),
                ("earning_month", _l("By the month they were earned")))
EXPIRY_RULE_FIELDS = ("points_expiry_rule", "points_expiry_months")
DEFAULT_MONTHS = 12
MONTHS_MESSAGE = _l("Enter months from 1 to 60.")


class RuleField(SelectField):
    """A select the page can also keep as a hidden value (a kind without points). Without a
    choice yet (a new program, or a kind that kept it hidden and empty) it is the first rule,
    selected as a browser would send it."""

    def process_data(self, value):
        super().process_data(value or self.default)

    def process_formdata(self, valuelist):
        super().process_formdata([value for value in valuelist if value][:1])

    def _value(self):
        return self.data or ""


class ExpiryRuleFields:
    """The two fields and what they give the service."""

    points_expiry_rule = RuleField(
        _l("How points expire"),
        choices=[SelectChoice(value, label) for value, label in EXPIRY_RULES],
        default=EXPIRY_RULES[0][0], validate_choice=False,
        validators=[Optional(), AnyOf([value for value, _ in EXPIRY_RULES], OUTDATED)])
    points_expiry_months = WholeNumberField(
        _l("Months after the month they were earned"), validators=[Optional()], min=1, max=60,
        message=MONTHS_MESSAGE)

    def expiry_rule_values(self):
        rule = self.points_expiry_rule.data or "inactivity"
        values = {"points_expiry_rule": rule}
        if rule == "earning_month" or self.points_expiry_months.data is not None:
            values["points_expiry_months"] = self.points_expiry_months.data or DEFAULT_MONTHS
        return values


def expiry_rule_data(program):
    return {"points_expiry_rule": program.points_expiry_rule,
            "points_expiry_months": program.points_expiry_months or DEFAULT_MONTHS}
