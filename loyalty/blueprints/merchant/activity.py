"""The merchant's audit trail: who changed what, filterable by kind of change and person."""
from flask import request

from loyalty.blueprints.merchant.base import OWNER, bp, id_arg, page
from loyalty.services import audit
from loyalty.tenancy import current_merchant, roles_required

#: The kinds of change, as the filter offers them (the first part of an action's name).
AREAS = ("program", "reward", "branding", "store", "pin", "team", "card")


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
                people=audit.actors(current_merchant.id))
