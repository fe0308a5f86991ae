"""The merchant's loyalty program, its reward catalogue, and per-merchant settings."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from loyalty import clock
from loyalty.database import write_transaction
from loyalty.extensions import db
from loyalty.models import LoyaltyProgram, Merchant, ProgramType, Reward, soft_delete_cascade
from loyalty.services import audit, events
from loyalty.services.engine import lot_expiry
from loyalty.services.engine.point_lots import RULES
from loyalty.services.engine.program_rows import (  # noqa: F401 - the read side, kept here too
    active_rewards,
    catalogue,
    live_program,
    loyalty_settings,
    pin_lockout_policy,
    program_with_rewards,
    reward_for,
)
from loyalty.services.errors import Conflict, InvalidInput

EDITABLE_FIELDS = {
    "program_type", "stamps_target", "stamp_reward_description", "stamp_reward_value_cents",
    "points_per_euro", "point_value_cents", "welcome_bonus_points", "minimum_redemption_points",
    "minimum_purchase_cents", "points_expiration_days", "expiry_warning_days", "cooldown_minutes",
    "points_expiry_rule", "points_expiry_months",
    "max_stamps_per_day", "birthday_bonus_points", "birthday_bonus_stamps", "birthday_days_ahead",
    "winback_enabled", "winback_inactive_days", "winback_bonus_points", "winback_bonus_stamps",
    "winback_bonus_days",
    "require_staff_pin", "offline_enabled", "offline_max_actions", "offline_max_points",
    "card_name", "primary_color", "secondary_color", "logo_url",
    "hero_image_url", "terms_text", "privacy_url", "apple_pass_type_id", "google_class_id",
}
MAX_REWARD_COST = 1_000_000
NON_NEGATIVE = (
    "stamp_reward_value_cents", "points_per_euro", "welcome_bonus_points",
    "minimum_redemption_points", "minimum_purchase_cents", "cooldown_minutes",
    "expiry_warning_days",
)

#: What a tablet without connection may keep (``services/engine/offline.py`` enforces them).
OFFLINE_LIMITS = {
    "offline_max_actions": (1, 500, _l("Enter a number of actions from 1 to 500.")),
    "offline_max_points": (0, 100_000, _l("Enter a number of points from 0 to 100,000.")),
}


def _validate(fields):
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise InvalidInput(_l("Unknown program settings: %(names)s", names=", ".join(sorted(unknown))))
    if "program_type" in fields:
        try:
            fields["program_type"] = ProgramType(fields["program_type"])
        except ValueError as exc:
            raise InvalidInput(_l("Choose stamps, points or both.")) from exc
    for name in NON_NEGATIVE:
        if fields.get(name) is not None and fields[name] < 0:
            raise InvalidInput(_l("Amounts, points and minutes cannot be negative."))
    if fields.get("stamps_target") is not None and not 1 <= fields["stamps_target"] <= 100:
        raise InvalidInput(_l("The number of stamps for a reward must be between 1 and 100."))
    if fields.get("max_stamps_per_day") is not None and fields["max_stamps_per_day"] < 1:
        raise InvalidInput(_l("Allow at least one stamp per day."))
    if fields.get("points_expiration_days") is not None and fields["points_expiration_days"] < 1:
        raise InvalidInput(_l("Points must stay valid for at least one day, or never expire."))
    if fields.get("points_expiry_rule") is not None and fields["points_expiry_rule"] not in RULES:
        raise InvalidInput(_l("Choose how points expire: after inactivity or by earning month."))
    if fields.get("points_expiry_months") is not None and not 1 <= fields["points_expiry_months"] <= 60:
        raise InvalidInput(_l("Points earned in a month expire 1 to 60 months after it."))
    for name, (low, high, message) in OFFLINE_LIMITS.items():
        if fields.get(name) is not None and not low <= fields[name] <= high:
            raise InvalidInput(message)
    if fields.get("card_name") is not None and not fields["card_name"].strip():
        raise InvalidInput(_l("Give the card a name customers will recognise."))
    return fields


def create_program(merchant, program_type, card_name, *, active=True, actor=None, **fields):
    """Create the merchant's one program; a second live program is refused."""
    fields = _validate({"program_type": program_type, "card_name": card_name, **fields})
    now = clock.now()
    try:
        with write_transaction():
            if live_program(merchant.id) is not None:
                raise Conflict(_l("This merchant already has a loyalty program. Edit it instead."))
            program = LoyaltyProgram(
                merchant_id=merchant.id,
                is_active=active,
                activated_at=now if active else None,
                **fields,
            )
            db.session.add(program)
            loyalty_settings(merchant.id)
            db.session.flush()
            audit.record(actor, "program.create", program, merchant_id=merchant.id,
                         label=program.card_name,
                         changes={name: (None, value) for name, value in fields.items()})
    except IntegrityError as exc:
        raise Conflict(_l("This merchant already has a loyalty program. Edit it instead.")) from exc
    return program


def update_program(program, *, actor=None, **fields):
    """Change the program's settings; the audit trail keeps the old and new values."""
    fields = _validate(fields)
    with write_transaction():
        rule, months = program.points_expiry_rule, program.points_expiry_months
        changes = audit.apply_changes(actor, "program.update", program, fields,
                                      label=fields.get("card_name") or program.card_name)
        if {"points_expiry_rule", "points_expiry_months"} & set(changes):
            lot_expiry.rule_changed(program, rule, months)  # the lots follow the rule
        if set(changes) & events.PASS_FIELDS:
            events.program_changed(program)
    return program


def _set_program_active(program, active, actor):
    with write_transaction():
        if program.is_active == active:
            return program
        program.is_active = active
        if active:
            program.activated_at = clock.now()
        else:
            program.deactivated_at = clock.now()
        audit.record(actor, "program.activate" if active else "program.deactivate", program,
                     merchant_id=program.merchant_id, label=program.card_name,
                     changes={"is_active": (not active, active)})
    return program


def activate_program(program, *, actor=None):
    return _set_program_active(program, True, actor)


def deactivate_program(program, *, actor=None):
    return _set_program_active(program, False, actor)


def delete_program(program, *, by=None):
    """Soft-delete the program with its cards; the ledger stays."""
    with write_transaction():
        program.is_active = False
        program.deactivated_at = clock.now()
        soft_delete_cascade(program, by)


def _check_reward(name, points_cost):
    if not (name or "").strip():
        raise InvalidInput(_l("Give the reward a name."))
    if points_cost is None or not 1 <= points_cost <= MAX_REWARD_COST:
        raise InvalidInput(_l("A reward costs between 1 and 1,000,000 points."))


def add_reward(program, name, points_cost, *, description=None, actor=None):
    """A new catalogue entry, placed last."""
    _check_reward(name, points_cost)
    with write_transaction():
        last = db.session.scalar(select(func.max(Reward.position)).where(
            Reward.program_id == program.id))
        reward = Reward(
            merchant_id=program.merchant_id,
            program_id=program.id,
            name=name.strip(),
            points_cost=points_cost,
            description=(description or "").strip() or None,
            position=(last or 0) + 1,
        )
        db.session.add(reward)
        db.session.flush()
        audit.record(actor, "reward.create", reward, merchant_id=program.merchant_id,
                     label=reward.name,
                     changes={"name": (None, reward.name), "points_cost": (None, points_cost)})
    return reward


def update_reward(reward, *, name, points_cost, description=None, actor=None):
    _check_reward(name, points_cost)
    values = {"name": name.strip(), "points_cost": points_cost,
              "description": (description or "").strip() or None}
    with write_transaction():
        audit.apply_changes(actor, "reward.update", reward, values)
    return reward


def move_reward(reward, offset, *, actor=None):
    """Swap the reward with its neighbour above (offset -1) or below (+1) in the catalogue."""
    with write_transaction():
        siblings = db.session.scalars(
            select(Reward).where(Reward.program_id == reward.program_id)
            .order_by(Reward.position, Reward.id)
        ).all()
        for position, sibling in enumerate(siblings, start=1):
            sibling.position = position  # closes gaps left by older orders
        index = siblings.index(reward)
        other = index + offset
        if 0 <= other < len(siblings):
            neighbour = siblings[other]
            reward.position, neighbour.position = neighbour.position, reward.position
            audit.record(actor, "reward.move", reward, merchant_id=reward.merchant_id,
                         label=reward.name, changes={"position": (index + 1, other + 1)})
    return reward


def set_reward_active(reward, active, *, actor=None):
    """Retire a reward from the catalogue or bring it back; rewards are never deleted (the
    ledger names them)."""
    with write_transaction():
        if reward.is_active != active:
            reward.is_active = active
            audit.record(actor, "reward.activate" if active else "reward.deactivate", reward,
                         merchant_id=reward.merchant_id, label=reward.name,
                         changes={"is_active": (not active, active)})
    return reward


SETTINGS = ("allow_self_enrollment", "pin_lockout_attempts", "pin_lockout_minutes",
            "allow_voids", "void_window_days", "allow_cross_location_redemption")


def update_settings(merchant_id, *, actor=None, **fields):
    """The platform admin's controls of a merchant (audited); the counter and the shop's
    pages follow at their next request (the change bumps the merchant's cache version)."""
    if set(fields) - set(SETTINGS):
        raise InvalidInput(_l("Unknown settings."))
    for name in ("pin_lockout_attempts", "pin_lockout_minutes"):
        if fields.get(name) is not None and not 1 <= fields[name] <= 10_000:
            raise InvalidInput(_l("Lockout values must be between 1 and 10,000."))
    if fields.get("void_window_days") is not None and not 0 <= fields["void_window_days"] <= 3650:
        raise InvalidInput(_l("Staff may void for between 0 and 3,650 days."))
    with write_transaction():
        settings = loyalty_settings(merchant_id)
        audit.apply_changes(actor, "settings.update", settings, fields,
                            label=db.session.get(Merchant, merchant_id).name)
    return settings
