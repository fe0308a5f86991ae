"""The fraud alerts pages' forms: the list's filters (from the query string) and the review."""
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import Optional

from loyalty.forms import Form, WholeNumberField
from loyalty.services.merchant.fraud_alerts import NOTE_MAX

STATUS_CHOICES = (SelectChoice("open", _l("To review")), SelectChoice("reviewed", _l("Reviewed")),
                  SelectChoice("all", _l("All")))


class AlertFilterForm(Form):
    """Open, reviewed or all; one rule; one store. Anything else shows every one."""

    class Meta:
        csrf = False

    status = SelectField(_l("Alerts"), choices=STATUS_CHOICES, validate_choice=False,
                         default="open")
    rule = SelectField(_l("Rule"), choices=[], validate_choice=False, default="")
    store = WholeNumberField(_l("Store"), validators=[Optional()])

    def offer(self, rules, stores):
        """The choices of the rule and store menus: the registry's rules, the stores the
        reader may see."""
        self.rule.choices = [SelectChoice("", _l("Every rule")),
                             *(SelectChoice(key, label) for key, label in rules)]
        self.store_choices = stores
        if self.status.data not in {choice.value for choice in STATUS_CHOICES}:
            self.status.data = "open"
        if self.rule.data not in dict(rules):
            self.rule.data = ""
        if self.store.errors or self.store.data not in {store_id for store_id, _n in stores}:
            self.store.data = None


class ReviewForm(Form):
    """What the reviewer found or did; the service refuses it empty, too long or with a NUL
    (and says so under the field)."""

    note = TextAreaField(_l("Review note"), render_kw={"rows": 4, "maxlength": NOTE_MAX})
