"""The fraud alert rules and each merchant's settings of them.

Every rule is on by default at its default threshold; a merchant's ``FraudRuleSetting`` row
(``models/fraud.py``) switches it off or moves its threshold. The checks themselves are in
``fraud_checks.py``; owners change the settings on the "Alert rules" page (audited as
``alert.rule``, one entry per rule changed).

Decisions worth knowing:

- ``staff_hour`` and ``tablet_hour`` count stamps given plus purchases credited with points,
  in a clock hour: ten stamps given at once count ten, a purchase one (whatever its points).
- ``card_day`` counts every counter action on one card (stamps, points, rewards, voids,
  adjustments) in the merchant's local day, at any of its stores.
- ``void_share`` is a percentage: a staff member's voids and reward undos over all their
  counter actions of the last 7 days, once they have at least ``VOID_SHARE_MIN_ACTIONS``.
- Adjustments have two rules, one in points and one in stamps (a stamp has no fixed worth in
  points).
- Stores keep their opening hours as free text, so ``off_hours`` uses one per-merchant hour:
  counter actions from that hour (local time) until 5 in the morning are "after closing"
  (5 itself is refused: from 5 until 5 the rule would never fire).
- ``pin_burst`` counts wrong PINs at one store in 10 minutes; ``quick_reward`` counts rewards
  given within 10 minutes after the same person gave the card a stamp or points, per day.
"""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import FraudRuleSetting
from loyalty.services import audit
from loyalty.services.errors import InvalidInput

#: ``off_hours``: the night ends (the fixed opening) at this local hour.
NIGHT_ENDS_AT = 5
VOID_SHARE_MIN_ACTIONS = 10
VOID_SHARE_DAYS = 7
PIN_BURST_MINUTES = 10
QUICK_REWARD_MINUTES = 10


@dataclass(frozen=True)
class Rule:
    key: str
    label: object
    description: object
    default: int
    #: What the threshold counts, shown beside its field.
    unit: object
    low: int
    high: int


RULES = {rule.key: rule for rule in (
    Rule("staff_hour", _l("Many stamps or purchases by one staff member"),
         _l("Within an hour, one staff member gives this many stamps and purchases with points "
            "together (ten stamps given at once count ten, a purchase counts one)."),
         30, _l("stamps and purchases per hour"), 2, 1000),
    Rule("tablet_hour", _l("Many stamps or purchases on one tablet"),
         _l("Within an hour, one signed-in tablet or account records this many stamps and "
            "purchases with points together (ten stamps given at once count ten, a purchase "
            "counts one)."),
         60, _l("stamps and purchases per hour"), 2, 5000),
    Rule("card_day", _l("Many actions on one card"),
         _l("One card gets this many counter actions in a day, at any of your stores."),
         6, _l("actions per day"), 2, 500),
    Rule("void_share", _l("Many voids by one staff member"),
         _l("Voids and undone rewards make up this share of a staff member's counter actions "
            "over the last 7 days (once they have at least 10 actions)."),
         20, _l("percent"), 1, 100),
    Rule("big_adjustment", _l("Large points adjustment"),
         _l("A card's points are adjusted by this many points or more, up or down."),
         200, _l("points"), 1, 1_000_000),
    Rule("big_stamp_adjustment", _l("Large stamps adjustment"),
         _l("A card's stamps are adjusted by this many stamps or more, up or down."),
         5, _l("stamps"), 1, 1000),
    Rule("off_hours", _l("Counter action at night"),
         _l("A stamp, purchase or reward is recorded between this hour and 5 in the morning "
            "(your time zone): when your stores are closed."),
         22, _l("hour of the day, 0 to 23"), 0, 23),
    Rule("pin_burst", _l("Many wrong PINs at one store"),
         _l("This many wrong staff PINs are typed at one store within 10 minutes."),
         5, _l("wrong PINs in 10 minutes"), 2, 100),
    Rule("quick_reward", _l("Rewards given right after the stamps"),
         _l("One person gives a reward within 10 minutes after giving that card stamps or "
            "points, this many times in a day."),
         3, _l("times per day"), 1, 100),
)}


@dataclass(frozen=True)
class Setting:
    rule: Rule
    enabled: bool
    threshold: int

    @property
    def key(self):
        return self.rule.key


def settings_of(merchant_id):
    """``{rule key: Setting}`` for every rule: the merchant's rows over the defaults."""
    rows = {row.rule: row for row in db.session.scalars(
        select(FraudRuleSetting).where(FraudRuleSetting.merchant_id == merchant_id))}
    found = {}
    for key, rule in RULES.items():
        row = rows.get(key)
        found[key] = (Setting(rule, row.enabled, row.threshold) if row is not None
                      else Setting(rule, True, rule.default))
    return found


def threshold_message(rule):
    return _l("Enter a whole number from %(low)d to %(high)d.", low=rule.low, high=rule.high)


def check(key, enabled, threshold):
    """Refuse a setting out of shape (InvalidInput naming the field)."""
    rule = RULES.get(key)
    if rule is None:
        raise InvalidInput(_l("This alert rule does not exist."), field=key)
    if not isinstance(enabled, bool):
        raise InvalidInput(_l("Choose whether the rule is on."), field=f"{key}_enabled")
    if (isinstance(threshold, bool) or not isinstance(threshold, int)
            or not rule.low <= threshold <= rule.high):
        raise InvalidInput(threshold_message(rule), field=f"{key}_threshold")
    if key == "off_hours" and threshold == NIGHT_ENDS_AT:
        # From 5 until 5 is no hour at all: the rule would never fire.
        raise InvalidInput(_l("The night ends at %(hour)d in the morning: choose the hour your "
                              "stores close, for example 22.", hour=NIGHT_ENDS_AT),
                           field=f"{key}_threshold")
    return rule


def update_settings(merchant_id, values, *, actor=None):
    """Save ``{rule key: (enabled, threshold)}`` for the merchant, audited per rule changed.
    Everything is checked before anything is written. Returns the keys changed."""
    for key, (enabled, threshold) in values.items():
        check(key, enabled, threshold)
    try:
        return _save(merchant_id, values, actor)
    except IntegrityError:
        # Another owner saved the same rule first (its row did not exist yet): it exists now,
        # so saving again updates it under its lock (rolled back, nothing was half written).
        return _save(merchant_id, values, actor)


def _save(merchant_id, values, actor):
    changed = []
    with write_transaction():
        rows = {row.rule: row for row in db.session.scalars(
            select(FraudRuleSetting).where(FraudRuleSetting.merchant_id == merchant_id)
            .with_for_update())}
        for key, (enabled, threshold) in values.items():
            rule, row = RULES[key], rows.get(key)
            before = ((row.enabled, row.threshold) if row is not None
                      else (True, rule.default))
            if before == (enabled, threshold):
                continue
            if row is None:
                row = FraudRuleSetting(merchant_id=merchant_id, rule=key)
                db.session.add(row)
            row.enabled, row.threshold = enabled, threshold
            db.session.flush()
            changes = {name: [old, new] for name, old, new in (
                ("enabled", before[0], enabled), ("threshold", before[1], threshold))
                if old != new}
            audit.record(actor, "alert.rule", row, merchant_id=merchant_id,
                         label=str(rule.label), changes=changes)
            changed.append(key)
    return changed
