"""The merchant's audit trail: who changed what, filterable by kind of change and person."""
from flask import request
from flask_babel import lazy_gettext as _l

from loyalty.blueprints.merchant.base import OWNER, bp, id_arg, page
from loyalty.services import audit
from loyalty.tenancy import current_merchant, roles_required

#: How the changed fields are named on the page (the labels their forms use).
FIELD_LABELS = {
    "program_type": _l("Kind of program"), "card_name": _l("Card name"),
    "stamps_target": _l("Stamps for a reward"), "stamp_reward_description": _l("The reward"),
    "stamp_reward_value_cents": _l("What the reward is worth"),
    "cooldown_minutes": _l("Minutes between two stamps on one card"),
    "max_stamps_per_day": _l("Stamps per card per day, at most"),
    "points_per_euro": _l("Points per euro spent"),
    "point_value_cents": _l("Value of one point, in cents"),
    "minimum_purchase_cents": _l("Smallest purchase that earns points"),
    "minimum_redemption_points": _l("Fewest points a customer can redeem"),
    "welcome_bonus_points": _l("Welcome bonus"),
    "points_expiration_days": _l("Points expire after this many days without a visit"),
    "expiry_warning_days": _l("Warn customers this many days before"),
    "require_staff_pin": _l("Staff enter their PIN for every action"),
    "primary_color": _l("Card colour"), "secondary_color": _l("Text colour on the card"),
    "terms_text": _l("Terms customers agree to"), "privacy_url": _l("Link to your privacy notice"),
    "logo_url": _l("Logo (PNG, JPEG or WebP, up to 2 MB)"),
    "hero_image_url": _l("Large picture for your page (PNG, JPEG or WebP, up to 2 MB)"),
    "name": _l("Name"), "code": _l("Short code"), "address": _l("Address"), "phone": _l("Phone"),
    "opening_note": _l("Opening hours or a note for customers"),
    "points_cost": _l("Points it costs"), "description": _l("Description (optional)"),
    "position": _l("Reward catalogue"), "is_active": _l("Active"),
    "staff_name": _l("Staff member's name"), "can_unlock": _l("Manager PIN"),
    "unlocked_by": _l("Unlocked by"), "role": _l("Role"), "store_id": _l("Store"),
    "reason": _l("Reason"), "points_balance": _l("Points"), "stamp_count": _l("Stamps"),
    "erased_at": _l("Deleted on"),
}
#: The kinds of change, as the filter offers them (the first part of an action's name).
AREAS = ("program", "reward", "branding", "store", "pin", "team", "card", "customer")


@bp.route("/activity")
@roles_required(*OWNER)
def activity():
    area = request.args.get("area", "")
    area = area if area in AREAS else ""
    actor_id = id_arg("person")
    entries, next_before = audit.trail(
        current_merchant.id, action=f"{area}." if area else None, actor_id=actor_id,
        before_id=id_arg("before"))
    return page("merchant/activity.html", "merchant/_activity_rows.html", entries=entries,
                next_before=next_before, area=area, person=actor_id, areas=AREAS,
                field_labels=FIELD_LABELS,
                people=audit.actors(current_merchant.id))
