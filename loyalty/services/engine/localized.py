"""The merchant's own words read in the reader's language: the program's texts and the
rewards' names as the owner gave them per language (the ``translations`` column), falling back
to the merchant's default language. The read side of ``merchant.texts`` (which edits them),
here so that the engine (the counter's card summary) can name rewards without importing an
area."""
from dataclasses import dataclass

from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import Reward


def text_for(record, field, locale):
    """``record``'s ``field`` in ``locale``, or in the merchant's default language."""
    given = (record.translations or {}).get(str(locale) if locale else "", {}).get(field)
    return given or getattr(record, field)


def language_of(record, field, locale, default):
    """The language ``text_for`` answers in: ``locale`` when the owner gave ``field`` in it,
    else ``default`` (the merchant's default language; a page marks the text with it)."""
    given = (record.translations or {}).get(str(locale) if locale else "", {}).get(field)
    return str(locale) if given else default


@dataclass(frozen=True)
class RewardNames:
    """Rewards' names in the languages the owner gave them, looked up by what a ledger row
    recorded of its reward: the reward's id (None for the stamp card's reward) and its name
    in the merchant's default language when it was given. A row whose reward was renamed
    since keeps the name it recorded (the translations are of the new name). Plain values
    only: usable after the session that read them is closed (a streamed export)."""

    #: (reward id or None, name in the default language) -> {language: name}
    given: dict

    def named(self, reward_id, name, locale):
        """``name`` (of reward ``reward_id``, None for the stamp reward) in ``locale``."""
        return self.given.get((reward_id, name), {}).get(str(locale) if locale else "") or name

    def of_row(self, row, locale):
        """The reward a ledger row gave, named in ``locale``."""
        return self.named(row.reward_id, row.reward_description, locale)

    def language_of_row(self, row, locale, default):
        """The language ``of_row`` answers in: ``locale``, else ``default``."""
        given = self.given.get((row.reward_id, row.reward_description), {})
        return str(locale) if given.get(str(locale) if locale else "") else default

    def of_reward(self, reward, locale):
        return self.named(reward.id, reward.name, locale)


def _translated(record, field):
    return {code: texts[field] for code, texts in (record.translations or {}).items()
            if texts.get(field)}


def reward_names(program, rewards):
    """``RewardNames`` of the program's stamp reward and of ``rewards``."""
    given = {}
    if program is not None and program.stamp_reward_description:
        given[(None, program.stamp_reward_description)] = _translated(
            program, "stamp_reward_description")
    for reward in rewards:
        given[(reward.id, reward.name)] = _translated(reward, "name")
    return RewardNames(given)


def reward_names_for_rows(rows, program, known=()):
    """``RewardNames`` for the ledger ``rows``: the ``known`` rewards, and those the rows
    name that are not known (retired or deleted ones too), read in one statement."""
    known = list(known)
    missing = {row.reward_id for row in rows if row.reward_id} - {reward.id for reward in known}
    if missing:
        known += db.session.scalars(select(Reward).where(Reward.id.in_(missing))
                                    .execution_options(include_deleted=True)).all()
    return reward_names(program, known)


def merchant_reward_names(merchant_id, program):
    """``RewardNames`` of every reward the merchant ever had (for an export of its ledger)."""
    rewards = db.session.scalars(select(Reward).where(Reward.merchant_id == merchant_id)
                                 .execution_options(include_deleted=True)).all()
    return reward_names(program, rewards)
