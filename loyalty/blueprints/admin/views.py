"""The platform back office."""
from flask import Blueprint, render_template
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import Merchant
from loyalty.tenancy import PLATFORM_ADMIN, roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@roles_required(PLATFORM_ADMIN)
def index():
    merchants = db.session.scalars(select(Merchant).order_by(Merchant.name)).all()
    return render_template("admin/index.html", merchants=merchants)
