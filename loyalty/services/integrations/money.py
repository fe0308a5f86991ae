"""Amounts as a till sends them: a decimal string in the currency's minor units.

``"12.50"``, ``"12.5"`` and ``"12"`` are all twelve euros fifty / twelve euros: fewer decimals
than the currency has are exact, more are refused rather than rounded (``"12.505"`` in euros
is a 422: rounding someone's money is the till's decision, not ours). No sign, no exponent,
no thousands separator, no ``NaN``; zero and more than ``MAX_PURCHASE_CENTS`` are refused.
The currency must be the merchant's (ISO 4217, any case).
"""
import re

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

from loyalty.services.engine.points import MAX_PURCHASE_CENTS
from loyalty.services.errors import InvalidInput
from loyalty.services.integrations.catalog import as_amount, minor_units

_DECIMAL = re.compile(r"(\d{1,12})(?:\.(\d{1,12}))?")


def _invalid(field, message):
    return InvalidInput(message, errors=[{"field": field, "message": str(message)}])


def check_currency(expected, currency, field="currency"):
    """The merchant's currency ``expected``, when ``currency`` (if sent) names it; else a 422
    saying which it is."""
    if currency is not None and currency.upper() != expected:
        raise _invalid(field, _l("This shop's currency is %(currency)s: send amounts in it.",
                                 currency=expected))
    return expected


def to_cents(text, currency, field="amount"):
    """``text`` ("12.50") in minor units of ``currency`` (1250), or a 422 on ``field``."""
    digits = minor_units(currency)
    match = _DECIMAL.fullmatch(text or "")
    if match is None:
        raise _invalid(field, _l('Send the amount as a decimal string such as "12.50".'))
    units, fraction = match.group(1), match.group(2) or ""
    if len(fraction) > digits:
        raise _invalid(field, lazy_ngettext(
            "%(currency)s amounts have at most %(num)d decimal.",
            "%(currency)s amounts have at most %(num)d decimals.", digits, currency=currency)
            if digits else _l("%(currency)s amounts have no decimals.", currency=currency))
    cents = int(units) * 10 ** digits + int(fraction.ljust(digits, "0") or 0)
    if cents <= 0:
        raise _invalid(field, _l("The amount must be more than zero."))
    if cents > MAX_PURCHASE_CENTS:
        raise _invalid(field, _l("The amount is too large: at most %(most)s.",
                                 most=as_amount(MAX_PURCHASE_CENTS, currency)))
    return cents
