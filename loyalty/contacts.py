"""Contact details as people type them: phone numbers in any usual form, names without
accents or case.

Phone numbers are kept in E.164 (``+352621100002``), parsed by ``phonenumbers`` with the
merchant's country as the default prefix, so "621 100 002", "00352 621 100 002" and
"+352 621-100-002" are one number. Names are searched through a folded copy: lower case,
accents removed ("Chloé" is found by "chloe"), the same on SQLite and PostgreSQL.
"""
import unicodedata

import phonenumbers

DEFAULT_REGION = "LU"


def normalize_email(email):
    return (email or "").strip().lower()


def normalize_phone(text, region=DEFAULT_REGION):
    """The number in E.164, or None when ``text`` is empty or not a possible phone number."""
    text = unicodedata.normalize("NFKC", text or "").strip()  # full-width digits and the like
    if not text or len(text) > 40:
        return None
    try:
        number = phonenumbers.parse(text, region or DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def fold(text):
    """Lower case without accents, for matching names as people type them."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
