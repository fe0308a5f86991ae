"""The form that creates an API key (Settings > Integrations). The service checks the same
rules again; the form says them next to each field, in the owner's language."""
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from loyalty.forms import OUTDATED, Form
from loyalty.services.integrations import api_keys

#: What a new key may do unless the owner ticks otherwise: look cards up and credit purchases,
#: the usual till. Enrolling and redeeming are asked for on purpose. The CLI uses the same.
DEFAULT_SCOPES = ("cards:read", "purchases")


class ApiKeyForm(Form):
    name = StringField(_l("Name"), validators=[
        DataRequired(_l("Give the key a name, such as the till it is for.")),
        Length(max=api_keys.NAME_MAX,
               message=_l("The name is too long (80 characters at most)."))])
    store_id = SelectField(_l("Store"), coerce=str, validate_choice=False)
    scopes = SelectMultipleField(_l("What the key may do"), coerce=str, validate_choice=False,
                                 default=DEFAULT_SCOPES)

    def set_stores(self, stores):
        """The open stores a key can be bound to; "" is any store."""
        self.stores = {str(store.id): store for store in stores}
        self.store_id.choices = [SelectChoice("", _l("Any store (the till names it)"))] + [
            SelectChoice(str(store.id), store.name) for store in stores]

    def validate_store_id(self, field):
        if (field.data or "") not in ("", *self.stores):
            raise ValidationError(_l("Choose one of your stores."))

    def validate_scopes(self, field):
        if not field.data:
            raise ValidationError(_l("Pick at least one thing the key may do."))
        if any(scope not in api_keys.SCOPES for scope in field.data):
            raise ValidationError(OUTDATED)

    @property
    def store(self):
        return self.stores.get(self.store_id.data or "")

    @property
    def scope_choices(self):
        """(scope, what it lets a key do, ticked) for the checkboxes."""
        ticked = set(self.scopes.data or ())
        return [(scope, about, scope in ticked) for scope, about in api_keys.SCOPES.items()]
