"""What the public program page shows: a whitelist of the program's customer-facing fields.

Nothing else leaves: no ids, settings, counts or wallet identifiers. An unknown merchant, or a
program that is not active, is "not found".
"""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import Merchant, Store
from loyalty.services.engine.bonuses import bonus_of
from loyalty.services.engine.localized import language_of
from loyalty.services.engine.merchant_cache import merchant_rows
from loyalty.services.errors import NotFound
from loyalty.services.merchant.texts import text_for

NO_PROGRAM = _l("This shop has no loyalty program running at the moment.")


@dataclass(frozen=True)
class PublicReward:
    name: str
    description: str | None
    points_cost: int
    #: The language its name and description are in (the page's, or the merchant's default).
    lang: str


@dataclass(frozen=True)
class PublicStore:
    name: str
    address: str | None
    opening_note: str | None


@dataclass(frozen=True)
class PublicProgram:
    """Every field a public page may show (tests hold this list)."""

    slug: str
    shop: str
    card_name: str
    primary_color: str
    secondary_color: str
    logo_url: str | None
    hero_image_url: str | None
    has_stamps: bool
    has_points: bool
    #: What the program gives, in sentences (offer_lines).
    offer: tuple
    rewards: tuple
    stores: tuple
    terms_text: str | None
    privacy_url: str | None
    self_enrollment: bool
    #: The merchant's default language (texts typed once, like opening notes, are in it) and
    #: the language each program text above is in: {"card_name": "fr", ...}.
    language: str
    text_lang: dict
    #: The program gives a birthday bonus: the join form asks for the birthday.
    birthday_bonus: bool = False


def as_sentence(text):
    """``text`` as typed, ending with a full stop unless it already ends a sentence."""
    return text if text.endswith((".", "!", "?", "…")) else f"{text}."


def offer_lines(program, locale):
    """The program in a sentence or three, in the current language (the program page and the
    counter poster say the same)."""
    lines = []
    if program.has_stamps:
        reward = (text_for(program, "stamp_reward_description", locale) or "").strip()
        if reward:
            # The reward stands as the owner typed it, after a label: no article or case
            # of ours to clash with theirs ("Reward after 10 stamps: A free coffee.").
            lines.append(ngettext("Reward after %(num)d stamp: %(reward)s",
                                  "Reward after %(num)d stamps: %(reward)s",
                                  program.stamps_target, reward=as_sentence(reward)))
        else:
            lines.append(ngettext("Collect %(num)d stamp for a reward.",
                                  "Collect %(num)d stamps for a reward.", program.stamps_target))
    if program.has_points:
        lines.append(ngettext("Earn %(num)d point for every euro you spend.",
                              "Earn %(num)d points for every euro you spend.",
                              program.points_per_euro))
        if program.welcome_bonus_points:
            lines.append(ngettext("Welcome bonus: %(num)d point when you join.",
                                  "Welcome bonus: %(num)d points when you join.",
                                  program.welcome_bonus_points))
    points, stamps = bonus_of(program)
    if points:
        lines.append(ngettext("Birthday bonus: %(num)d point for your birthday.",
                              "Birthday bonus: %(num)d points for your birthday.", points))
    if stamps:
        lines.append(ngettext("Birthday bonus: %(num)d stamp for your birthday.",
                              "Birthday bonus: %(num)d stamps for your birthday.", stamps))
    return tuple(lines)


def merchant_for_slug(slug):
    merchant = db.session.scalar(select(Merchant).where(Merchant.slug == (slug or "")[:64]))
    if merchant is None:
        raise NotFound(NO_PROGRAM)
    return merchant


def public_program(merchant, locale):
    """The merchant's active program as customers may see it, its texts in ``locale`` (or
    the merchant's default language), or NotFound."""
    rows = merchant_rows(merchant.id)
    program = rows.program
    if program is None or not program.is_active:
        raise NotFound(NO_PROGRAM)
    default = merchant.default_locale
    stores = db.session.scalars(select(Store).where(
        Store.merchant_id == merchant.id, Store.is_active.is_(True)).order_by(Store.name)).all()
    return PublicProgram(
        slug=merchant.slug, shop=merchant.name,
        card_name=text_for(program, "card_name", locale),
        primary_color=program.primary_color, secondary_color=program.secondary_color,
        logo_url=program.logo_url, hero_image_url=program.hero_image_url,
        has_stamps=program.has_stamps, has_points=program.has_points,
        offer=offer_lines(program, locale),
        rewards=tuple(PublicReward(text_for(r, "name", locale), text_for(r, "description", locale),
                                   r.points_cost, language_of(r, "name", locale, default))
                      for r in rows.rewards)
        if program.has_points else (),
        stores=tuple(PublicStore(s.name, s.address, s.opening_note) for s in stores),
        terms_text=text_for(program, "terms_text", locale), privacy_url=program.privacy_url,
        self_enrollment=rows.settings.allow_self_enrollment if rows.settings else True,
        language=default, text_lang={name: language_of(program, name, locale, default) for name in (
            "card_name", "stamp_reward_description", "terms_text")},
        birthday_bonus=any(bonus_of(program)),
    )
