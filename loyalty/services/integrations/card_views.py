"""A card as the API shows it: the one shape every card answer has (a lookup, an enrolment,
a purchase's result), so a till parses one thing.

``rewards`` is what the card can take now, by the rules the redemption itself applies
(``engine.points.redeem_reward``, ``engine.stamps``): a catalogue reward within the balance
once the balance reaches the program's minimum, and the stamp reward once the card is full;
nothing on a closed card or in a paused program. An erased customer's card carries no
personal data: no name, no language.
"""
from datetime import UTC

from flask_babel import lazy_gettext as _l

from loyalty.services.engine.localized import text_for
from loyalty.services.engine.merchant_cache import merchant_rows

ACTIVE, INACTIVE, CLOSED = "active", "inactive", "closed"


def card_status(card):
    """``closed`` (the customer's data was erased), ``inactive`` (turned off) or ``active``."""
    customer = card.customer
    if customer is not None and customer.erased_at is not None:
        return CLOSED
    return ACTIVE if card.is_active else INACTIVE


def available_rewards(card, program, rewards, locale):
    """The rewards ``card`` can be given now, the stamp reward first."""
    if program is None or not program.is_active or not card.is_active:
        return []
    available = []
    if program.has_stamps and card.stamp_count >= program.stamps_target:
        available.append({"id": None, "kind": "stamps",
                          "name": text_for(program, "stamp_reward_description", locale)
                          or str(_l("Stamp reward")),  # a program made without its text
                          "description": None, "points_cost": 0,
                          "stamps_cost": program.stamps_target})
    if program.has_points and card.points_balance >= program.minimum_redemption_points:
        available += [{"id": reward.id, "kind": "points",
                       "name": text_for(reward, "name", locale),
                       "description": text_for(reward, "description", locale),
                       "points_cost": reward.points_cost, "stamps_cost": 0}
                      for reward in rewards
                      if reward.program_id == program.id
                      and reward.points_cost <= card.points_balance]
    return available


def customer_view(customer):
    """The customer's name and language; None for both once their data is erased."""
    if customer is None or customer.erased_at is not None:
        return {"name": None, "language": None}
    return {"name": customer.name, "language": customer.preferred_locale}


def card_view(card, program=None, locale=None):
    """``card`` as a dict for the API (``CardOut`` in ``blueprints/api/cards.py``).

    ``program`` is the merchant's live program (read from the merchant's cached rows when
    None); ``locale`` picks the language of the rewards' names."""
    rows = merchant_rows(card.merchant_id)
    program = program if program is not None else rows.program
    has_stamps = program is not None and program.has_stamps
    return {
        "number": card.card_number,
        "status": card_status(card),
        "points_balance": card.points_balance,
        "stamp_count": card.stamp_count,
        "stamps_target": program.stamps_target if has_stamps else None,
        "rewards": available_rewards(card, program, rows.rewards, locale),
        "customer": customer_view(card.customer),
        "last_activity_at": iso_utc(card.last_activity_at),
    }


def iso_utc(moment):
    """``moment`` as ISO 8601 in UTC with a ``Z`` (``2026-12-07T14:16:19Z``); None stays None.
    Stored times are aware UTC (``models.base.UTCDateTime``)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
