"""Wallet status: what the Apple and Google wallets need and whether it is there."""
from loyalty.blueprints.admin.base import page
from loyalty.blueprints.admin.views import bp
from loyalty.tenancy import PLATFORM_ADMIN, roles_required


@bp.route("/wallets")
@roles_required(PLATFORM_ADMIN)
def wallets():
    return page("admin/wallets.html")
