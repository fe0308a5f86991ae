"""The merchant's texts that customers read, in each language the owner gives them.

The program's card name, stamp reward and terms, and each reward's name and description, are
written first in the merchant's default language (the columns themselves). The owner may give
them in the other languages too; a text not given in a language falls back to the default
one. Customers' pages and emails read them through ``text_for``; ledger rows, which record
the name of the reward they gave, are named through ``RewardNames``.
"""
import hashlib
import json

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import select

from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import LoyaltyProgram, Reward
from loyalty.services import audit, events
from loyalty.services.engine.localized import (  # noqa: F401 - the read side, kept here too
    RewardNames,
    merchant_reward_names,
    reward_names,
    reward_names_for_rows,
    text_for,
)
from loyalty.services.errors import InvalidInput

#: Field -> longest text, per record type (the columns' own limits).
PROGRAM_TEXTS = {"card_name": 120, "stamp_reward_description": 200, "terms_text": 5000}
REWARD_TEXTS = {"name": 120, "description": 300}


def other_languages(merchant):
    """The languages an owner may give texts in: every language but their default."""
    return [code for code in current_app.config["LANGUAGES"] if code != merchant.default_locale]


def given_languages(merchant, program):
    """The merchant's default language, then those the owner gave any text in."""
    given = [code for code in other_languages(merchant)
             if any((program.translations or {}).get(code, {}).values())]
    return [merchant.default_locale, *given]


def _cleaned(values, limits):
    cleaned = {}
    for field, limit in limits.items():
        text = (values.get(field) or "").strip()
        if len(text) > limit:
            raise InvalidInput(lazy_ngettext("Keep this text to %(num)d character at most.",
                                             "Keep this text to %(num)d characters at most.",
                                             limit))
        if text:
            cleaned[field] = text
    return cleaned


def _with_language(translations, locale, cleaned):
    translations = {code: dict(texts) for code, texts in (translations or {}).items()}
    if cleaned:
        translations[locale] = cleaned
    else:
        translations.pop(locale, None)
    return translations


def _set_language(actor, action, record, locale, cleaned, label):
    """Give ``record`` the texts ``cleaned`` in ``locale``; audit what changed there."""
    before = (record.translations or {}).get(locale, {})
    changes = {field: [before.get(field), cleaned.get(field)]
               for field in set(before) | set(cleaned) if before.get(field) != cleaned.get(field)}
    if changes:
        record.translations = _with_language(record.translations, locale, cleaned)
        audit.record(actor, action, record, merchant_id=record.merchant_id,
                     label=f"{label} · {locale.upper()}", changes=changes)
    return bool(changes)


def texts_given(program, rewards, locale):
    """What the owner gave in ``locale``: the program's texts, and each reward's by id."""
    return {"program": dict((program.translations or {}).get(locale, {})),
            "rewards": {reward.id: dict((reward.translations or {}).get(locale, {}))
                        for reward in rewards}}


def texts_version(texts):
    """A short digest of one language's ``texts`` (as ``texts_given`` has them)."""
    payload = json.dumps({"program": texts["program"],
                          "rewards": {str(key): value for key, value in texts["rewards"].items()}},
                         sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def save_languages(program, rewards, texts, *, actor, shown=None):
    """Set the texts of every language in ``texts`` (locale -> {"program": texts, "rewards":
    {reward id: texts}}; empty ones removed) in one transaction. ``shown`` maps a language to
    the ``texts_version`` the owner's page showed: a language sent back as it was shown is
    left alone, so another owner's save of it meanwhile stays. One audit entry per record and
    language changed (the merchant's cached copies refresh on their own: merchant_cache).
    Returns whether anything changed."""
    cleaned = {}
    for locale, given in texts.items():
        if locale not in current_app.config["LANGUAGES"]:
            raise InvalidInput(_l("Pick one of the languages offered."))
        rewards_given = given.get("rewards", {})
        entry = {"program": _cleaned(given.get("program", {}), PROGRAM_TEXTS),
                 "rewards": {reward.id: _cleaned(rewards_given.get(reward.id, {}), REWARD_TEXTS)
                             for reward in rewards}}
        if (shown or {}).get(locale) != texts_version(entry):
            cleaned[locale] = entry
    if not cleaned:
        return False
    with write_transaction():
        # Locked while read and written back: two owners saving two languages at once both
        # keep theirs (each rewrites the whole JSON value).
        program = db.session.scalar(
            select(LoyaltyProgram).where(LoyaltyProgram.id == program.id)
            .with_for_update().execution_options(populate_existing=True))
        locked = db.session.scalars(
            select(Reward).where(Reward.id.in_([reward.id for reward in rewards]))
            .order_by(Reward.id).with_for_update().execution_options(populate_existing=True)
        ).all()
        changed = False
        for locale, entry in cleaned.items():
            changed |= _set_language(actor, "program.texts", program, locale, entry["program"],
                                     program.card_name)
            for reward in locked:
                changed |= _set_language(actor, "reward.texts", reward, locale,
                                         entry["rewards"][reward.id], reward.name)
        if changed:
            events.program_changed(program)
    return changed


def save_texts(program, rewards, locale, *, program_texts, reward_texts, actor):
    """Set the texts of ``locale`` (empty ones removed); ``reward_texts`` maps reward id to
    its texts. Returns whether anything changed (see ``save_languages``)."""
    return save_languages(program, rewards,
                          {locale: {"program": program_texts, "rewards": reward_texts}},
                          actor=actor)
