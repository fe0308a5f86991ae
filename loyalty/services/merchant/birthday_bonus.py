"""The owner's birthday bonus settings: points and/or stamps (0 = none) and how many days
before the birthday they are given. Changes are audited as any program change
(``program.update``); the bonus itself is granted by the engine (``engine/bonuses.py``) in
each merchant's morning run."""
from flask_babel import lazy_gettext as _l

from loyalty.services.engine.bonuses import MAX_DAYS_AHEAD
from loyalty.services.errors import InvalidInput
from loyalty.services.merchant import programs

LIMITS = {
    "birthday_bonus_points": (0, 100_000, _l("Enter a number of points from 0 to 100,000.")),
    "birthday_bonus_stamps": (0, 100, _l("Enter a number of stamps from 0 to 100.")),
    "birthday_days_ahead": (0, MAX_DAYS_AHEAD, _l("Enter days from 0 to 30.")),
}


def update_birthday_bonus(program, *, actor, **values):
    """Save the birthday settings of ``program`` (each within ``LIMITS``; the kind of bonus
    the program has no use for is kept at 0)."""
    for name, value in values.items():
        low, high, message = LIMITS[name]
        if not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(message, field=name)
    if not program.has_points:
        values["birthday_bonus_points"] = 0
    if not program.has_stamps:
        values["birthday_bonus_stamps"] = 0
    return programs.update_program(program, actor=actor, **values)
