"""The counter screen for store staff."""
from flask import Blueprint, render_template

from loyalty.models import Role
from loyalty.tenancy import current_merchant, roles_required

bp = Blueprint("terminal", __name__, url_prefix="/terminal")

STAFF_ROLES = (Role.MERCHANT_OWNER, Role.STORE_MANAGER, Role.STORE_STAFF)


@bp.route("/")
@roles_required(*STAFF_ROLES)
def index():
    return render_template("terminal/index.html", merchant=current_merchant)
