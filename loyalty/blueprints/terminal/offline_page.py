"""What the counter's page hands its offline script (``static/js/offline.js``): the program's
limits, the staff a tablet may pick from, where to check the connection and send the queue,
and the sentences it shows with a count (both plural forms, the count filled in by the script).

Nothing here is a rule: the server judges every queued action again when it is sent.
"""
from flask import url_for
from flask_babel import get_translations
from flask_login import current_user

from loyalty.services.engine import staff_pins
from loyalty.services.engine.merchant_cache import merchant_rows
from loyalty.services.engine.stamps import MAX_STAMPS_AT_ONCE
from loyalty.tenancy import current_merchant


def offline_config(store):
    """The tablet's offline settings at ``store``, or None when the merchant has no live
    program or switched offline mode off (the page then carries no offline script data)."""
    program = merchant_rows(current_merchant.id).program
    if program is None or not program.is_active or not program.offline_enabled:
        return None
    staff = staff_pins.staff_pins_at(current_merchant.id, store.id)
    most = MAX_STAMPS_AT_ONCE
    if program.max_stamps_per_day:  # more than a day's cap on one card is refused anyway
        most = min(most, program.max_stamps_per_day)
    base = url_for("terminal.index")
    return {
        "enabled": True,
        "store_id": store.id,
        "store_name": store.name,
        "merchant_id": current_merchant.id,
        "user_id": current_user.id,
        "max_actions": program.offline_max_actions,
        "max_points": program.offline_max_points,
        "require_pin": bool(program.require_staff_pin),
        "stamps": bool(program.has_stamps),
        "points": bool(program.has_points),
        "points_per_euro": str(program.points_per_euro),
        "minimum_purchase_cents": program.minimum_purchase_cents,
        "max_stamps_at_once": most,
        "currency": current_merchant.currency,
        "timezone": current_merchant.timezone,
        "staff": [{"id": person.id, "staff_name": person.staff_name,
                   "manager": bool(person.can_unlock)}
                  for person in staff],
        "ping_url": base + "offline/ping",
        "sync_url": base + "offline/sync",
        "words": counted_words(),
    }


def _forms(counted):
    """A counted sentence's two forms in the request's language ("one", "other"), with its
    ``%(num)d`` left for the script (the languages served have two forms each)."""
    return [counted(1), counted(2)]


def counted_words():
    """The offline script's sentences that carry a number."""
    t = get_translations()
    return {
        "waiting": _forms(lambda n: t.ngettext(
            "%(num)d action waiting on this tablet.",
            "%(num)d actions waiting on this tablet.", n)),
        "send_title": _forms(lambda n: t.ngettext(
            "%(num)d action waiting: enter your PIN to send it",
            "%(num)d actions waiting: enter your PIN to send them", n)),
        "stamps_kept": _forms(lambda n: t.ngettext(
            "%(num)d stamp kept for card %(card)s. It is sent when the connection is back.",
            "%(num)d stamps kept for card %(card)s. They are sent when the connection is back.",
            n)),
        "points_kept": _forms(lambda n: t.ngettext(
            "%(num)d point kept for card %(card)s. It is sent when the connection is back.",
            "%(num)d points kept for card %(card)s. They are sent when the connection is back.",
            n)),
        "stamps_action": _forms(lambda n: t.ngettext("%(num)d stamp", "%(num)d stamps", n)),
        "cap_actions": _forms(lambda n: t.ngettext(
            "This tablet keeps at most %(num)d action without connection. Send the waiting "
            "one first.",
            "This tablet keeps at most %(num)d actions without connection. Send the waiting "
            "ones first.", n)),
        "cap_points": _forms(lambda n: t.ngettext(
            "This tablet keeps at most %(num)d point without connection: this purchase would "
            "go over. Send the waiting actions first.",
            "This tablet keeps at most %(num)d points without connection: this purchase would "
            "go over. Send the waiting actions first.", n)),
        "others_waiting": _forms(lambda n: t.ngettext(
            "%(num)d action of someone else is still waiting: they send it with their own PIN.",
            "%(num)d actions of others are still waiting: they send them with their own PIN.",
            n)),
        "refused_count": _forms(lambda n: t.ngettext(
            "%(num)d action refused: see why",
            "%(num)d actions refused: see why", n)),
    }
