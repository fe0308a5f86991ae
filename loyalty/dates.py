"""Dates and times as people write them: in the reader's language, in the merchant's country,
on the merchant's clock, one style per kind of date across the product.

- a date: the language's medium date ("7 Dec 2026", "7 déc. 2026", "07.12.2026");
- a date and time: that date and the short time ("7 Dec 2026, 04:03");
- a time at the counter: "04:03" today, "07/12 04:03" another day (``clock.local_time_label``).

The country decides the order of day and month: English read in a Luxembourg shop is written
day first ("7 Dec 2026, 04:03"), in a US shop month first ("Dec 7, 2026, 4:03 AM").
"""
from contextlib import contextmanager
from functools import lru_cache

from babel import Locale, localedata
from babel.dates import format_date, format_time
from flask import current_app, g, has_app_context
from flask_babel import get_locale, get_timezone

#: Where an app keeps the callable giving the merchant's country (ISO code) of the page.
COUNTRY_SELECTOR = "loyalty_country_selector"
#: English in a country Babel has no English of its own for: Europe's English, day first.
ENGLISH_ELSEWHERE = "en_150"


@lru_cache(maxsize=64)
def locale_for(language, country):
    """The Babel locale of ``language`` as written in ``country`` ("fr" + "LU": fr_LU); the
    language alone when Babel has no such pair, except English outside the US, which is then
    written day first (en_150) instead of American English's month first."""
    language = (language or "en").split("_")[0]
    country = (country or "").upper()
    if country and localedata.exists(f"{language}_{country}"):
        return Locale.parse(f"{language}_{country}")
    if language == "en" and country and country != "US":
        return Locale.parse(ENGLISH_ELSEWHERE)
    return Locale.parse(language)


def merchant_country():
    """The country of the merchant whose page or email this is (``None`` when none is)."""
    if not has_app_context():
        return None
    selector = current_app.extensions.get(COUNTRY_SELECTOR)
    return selector() if selector is not None else None


def reading_locale():
    """The locale dates are written in now: the reader's language, the merchant's country."""
    return locale_for(str(get_locale() or "en"), merchant_country())


def date_label(value):
    """``value`` (a date, or an aware datetime taken on the merchant's clock) as a date."""
    if value is None:
        return ""
    if hasattr(value, "hour"):
        value = value.astimezone(get_timezone())
    return format_date(value, "medium", locale=reading_locale())


def datetime_label(value):
    """``value`` (an aware datetime) on the merchant's clock: medium date and short time, joined
    as the language joins them."""
    if value is None:
        return ""
    locale = reading_locale()
    local = value.astimezone(get_timezone())
    return locale.datetime_formats["medium"].format(
        format_time(local, "short", tzinfo=local.tzinfo, locale=locale),
        format_date(local, "medium", locale=locale))


def time_label(value):
    """A time of day (``datetime.time``, on the merchant's clock) in the reader's short style:
    "14:00", or "2:00 PM" in English in the US."""
    if value is None:
        return ""
    return format_time(value, "short", locale=reading_locale())


@contextmanager
def written_for(country):
    """Dates in the block are written as people write them in ``country`` (an email being
    composed away from any shop's page)."""
    previous = g.get("page_country")
    g.page_country = country
    try:
        yield
    finally:
        g.page_country = previous


def install(app, country_selector):
    """``dateformat`` and ``datetimeformat`` in templates write the one style of their kind
    (Flask-Babel's filters of the same names are replaced), ``timeofday`` a wall-clock time
    (``datetime.time``); ``country_selector`` tells the merchant's country."""
    app.extensions[COUNTRY_SELECTOR] = country_selector
    app.jinja_env.filters.update(dateformat=date_label, datetimeformat=datetime_label,
                                 timeofday=time_label)
