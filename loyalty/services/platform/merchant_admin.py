"""The platform admin's side of a merchant: opening one (its owner invited by email) and
changing its identity (name, address, time zone, currency, languages)."""
import re
import unicodedata
from zoneinfo import available_timezones

from babel import Locale
from babel.numbers import get_currency_name
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import Merchant, Role
from loyalty.services import audit
from loyalty.services.errors import Conflict, InvalidInput
from loyalty.services.merchant import team

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\Z")
FIELDS = ("name", "slug", "timezone", "currency", "default_locale", "country")
TAKEN = _l("Another merchant already uses this web address. Choose another one.")
#: Letters that Unicode does not split into a base letter and an accent.
FOLDED = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l"})


def slug_from_name(name):
    """The web address a shop's name suggests: lower case, accents folded, words joined by
    dashes ("Café Müller" -> "cafe-muller"); static/js/slug.js makes the same as it is typed."""
    letters = unicodedata.normalize("NFKD", (name or "").lower().translate(FOLDED))
    plain = "".join(char for char in letters if not unicodedata.combining(char))
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:64].rstrip("-")


def _clean(fields, *, slug_from_name_if_empty=False):
    fields = {name: (fields.get(name) or "").strip() for name in FIELDS}
    fields["slug"] = fields["slug"].lower()
    if not fields["slug"] and slug_from_name_if_empty:
        fields["slug"] = slug_from_name(fields["name"])
    fields["currency"], fields["country"] = fields["currency"].upper(), fields["country"].upper()
    if not fields["name"] or len(fields["name"]) > 120:
        raise InvalidInput(_l("Give the merchant a name of up to 120 characters."), field="name")
    if not SLUG.match(fields["slug"]):
        raise InvalidInput(_l("Use lower-case letters, digits and dashes for the web address, "
                              "like cafe-gare."), field="slug")
    if fields["timezone"] not in available_timezones():
        raise InvalidInput(_l("Choose a time zone from the list."), field="timezone")
    if not re.match(r"^[A-Z]{3}\Z", fields["currency"]) or \
            get_currency_name(fields["currency"], locale="en") == fields["currency"]:
        raise InvalidInput(_l("Enter a currency code like EUR."), field="currency")
    if fields["default_locale"] not in current_app.config["LANGUAGES"]:
        raise InvalidInput(_l("Choose one of the languages offered."), field="default_locale")
    if not re.match(r"^[A-Z]{2}\Z", fields["country"]) or \
            fields["country"] not in Locale("en").territories:
        raise InvalidInput(_l("Enter a two-letter country code like LU."), field="country")
    return fields


def create_merchant(*, owner_email, owner_name, actor, **fields):
    """A new merchant and its owner's invitation (a set-password email for a new account),
    in one transaction. Without a web address, the name gives one."""
    fields = _clean(fields, slug_from_name_if_empty=True)
    try:
        with write_transaction():
            merchant = Merchant(**fields)
            db.session.add(merchant)
            db.session.flush()
            audit.record(actor, "merchant.create", merchant, merchant_id=merchant.id,
                         label=merchant.name,
                         changes={name: [None, value] for name, value in fields.items()})
            team.invite_in_transaction(merchant, email=owner_email, name=owner_name,
                                       role=Role.MERCHANT_OWNER, actor=actor)
    except IntegrityError as exc:
        raise Conflict(TAKEN, field="slug") from exc
    return merchant


def update_merchant(merchant, *, actor, **fields):
    fields = _clean(fields)
    try:
        with write_transaction():
            merchant = db.session.get(Merchant, merchant.id, populate_existing=True)
            audit.apply_changes(actor, "merchant.update", merchant, fields,
                                merchant_id=merchant.id)
    except IntegrityError as exc:
        raise Conflict(TAKEN, field="slug") from exc
    return merchant
