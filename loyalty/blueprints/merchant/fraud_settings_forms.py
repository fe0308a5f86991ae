"""The owner's alert rules form: for each fraud rule, on or off and its threshold (one form
module per page: the merchant forms module is full)."""
from flask_babel import lazy_gettext as _l
from wtforms.validators import InputRequired

from loyalty.forms import CheckboxField, Form, WholeNumberField
from loyalty.services.merchant.fraud_rules import RULES, threshold_message


class FraudRulesForm(Form):
    """``<rule>_enabled`` and ``<rule>_threshold`` for every rule of ``RULES``."""

    def values(self):
        return {key: (self[f"{key}_enabled"].data, self[f"{key}_threshold"].data)
                for key in RULES}

    def rows(self):
        """(rule, its checkbox, its threshold field) in the registry's order."""
        return [(rule, self[f"{key}_enabled"], self[f"{key}_threshold"])
                for key, rule in RULES.items()]


for _key, _rule in RULES.items():
    _message = threshold_message(_rule)
    setattr(FraudRulesForm, f"{_key}_enabled",
            CheckboxField(_l("Alert on: %(rule)s", rule=_rule.label)))
    setattr(FraudRulesForm, f"{_key}_threshold", WholeNumberField(
        _l("Threshold for “%(rule)s” (%(unit)s)", rule=_rule.label, unit=_rule.unit),
        validators=[InputRequired(_message)], min=_rule.low, max=_rule.high, message=_message))


def form_data(settings):
    """The form's initial values from the merchant's settings (``settings_of``)."""
    data = {}
    for key, setting in settings.items():
        data[f"{key}_enabled"] = setting.enabled
        data[f"{key}_threshold"] = setting.threshold
    return data
