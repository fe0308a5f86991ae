"""The merchant's audit trail: who changed what, filterable by kind of change and person."""
from flask import request

from loyalty.blueprints.merchant.base import OWNER, bp, page
from loyalty.services import audit
from loyalty.tenancy import current_merchant, roles_required

#: The kinds of change, as the filter offers them (the first part of an action's name).
AREAS = ("program", "reward", "store", "pin", "team", "card")


@bp.route("/activity")
@roles_required(*OWNER)
def activity():
    area = request.args.get("area", "")
    area = area if area in AREAS else ""
    actor_id = request.args.get("person", type=int)
    before = request.args.get("before", type=int)
    entries, next_before = audit.trail(
        current_merchant.id, action=f"{area}." if area else None,
        actor_id=actor_id if actor_id and actor_id > 0 else None,
        before_id=before if before and before > 0 else None)
    return page("merchant/activity.html", "merchant/_activity_rows.html", entries=entries,
                next_before=next_before, area=area, person=actor_id, areas=AREAS,
                people=audit.actors(current_merchant.id))
