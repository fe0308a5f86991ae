"""The platform back office; one module per area, each registering on ``views.bp``."""
from loyalty.blueprints.admin import (  # noqa: F401 - they register their routes
    audit_log,
    jobs,
    records,
    settings,
    statement,
    support,
    wallets,
)
from loyalty.blueprints.admin.views import bp

__all__ = ["bp"]
