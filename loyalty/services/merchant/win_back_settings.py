"""The owner's win-back settings: on or off, after how many days without a visit, the bonus
(points and/or stamps, 0 = none) and how many days it stays before it lapses. Changes are
audited as any program change (``program.update``); the emails and bonuses are the morning
run's (``services/delivery/win_back.py``)."""
from flask_babel import lazy_gettext as _l

from loyalty.services.errors import InvalidInput
from loyalty.services.merchant import programs

LIMITS = {
    "winback_inactive_days": (7, 730, _l("Enter a number of days from 7 to 730.")),
    "winback_bonus_points": (0, 100_000, _l("Enter a number of points from 0 to 100,000.")),
    "winback_bonus_stamps": (0, 100, _l("Enter a number of stamps from 0 to 100.")),
    "winback_bonus_days": (1, 365, _l("Enter a number of days from 1 to 365.")),
}
FIELDS = ("winback_enabled", *LIMITS)


def update_win_back(program, *, actor, **values):
    """Save the win-back settings of ``program`` (each number within ``LIMITS``; the kind of
    bonus the program has no use for is kept at 0)."""
    for name, value in values.items():
        if name == "winback_enabled":
            if not isinstance(value, bool):
                raise InvalidInput(_l("Choose whether to send the email."), field=name)
            continue
        low, high, message = LIMITS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(message, field=name)
    if not program.has_points:
        values["winback_bonus_points"] = 0
    if not program.has_stamps:
        values["winback_bonus_stamps"] = 0
    return programs.update_program(program, actor=actor, **values)
