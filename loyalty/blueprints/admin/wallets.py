"""Wallet status: what the Apple and Google wallets need and whether it is there, how many
passes and devices there are, and the recent failures."""
from sqlalchemy import select

from loyalty.blueprints.admin.base import page
from loyalty.blueprints.admin.views import bp
from loyalty.extensions import db
from loyalty.models import OutboxMessage
from loyalty.services.wallets import status as wallet_config
from loyalty.tenancy import PLATFORM_ADMIN, roles_required


@bp.route("/wallets")
@roles_required(PLATFORM_ADMIN)
def wallets():
    recent = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind.in_(["wallet", "wallet_program"]))
        .order_by(OutboxMessage.id.desc()).limit(200)).all()
    failures = [row for row in recent if row.last_error or row.payload.get("refused")][:20]
    return page("admin/wallets.html", apple=wallet_config.apple_status(),
                google=wallet_config.google_status(), counts=wallet_config.counts(),
                failures=failures, reviews=wallet_config.review_statuses())
