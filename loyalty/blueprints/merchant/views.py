"""Settings and reports for merchant owners and managers."""
from flask import Blueprint, render_template

from loyalty.extensions import db
from loyalty.models import Customer, Role, Store
from loyalty.tenancy import current_merchant, get_or_404, roles_required, scoped

bp = Blueprint("merchant", __name__, url_prefix="/merchant")

OWNER_ROLES = (Role.MERCHANT_OWNER,)


@bp.route("/")
@roles_required(*OWNER_ROLES)
def index():
    stores = db.session.scalars(scoped(Store).order_by(Store.name)).all()
    customers = db.session.scalars(scoped(Customer).order_by(Customer.name).limit(50)).all()
    return render_template(
        "merchant/index.html", merchant=current_merchant, stores=stores, customers=customers
    )


@bp.route("/stores/<int:store_id>")
@roles_required(*OWNER_ROLES)
def store(store_id):
    return render_template("merchant/store.html", store=get_or_404(Store, store_id))


@bp.route("/customers/<int:customer_id>")
@roles_required(*OWNER_ROLES)
def customer(customer_id):
    return render_template("merchant/customer.html", customer=get_or_404(Customer, customer_id))


