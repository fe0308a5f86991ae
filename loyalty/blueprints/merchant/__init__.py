"""Settings and reports for merchant owners and, for their stores, managers. One module per
area; each registers its routes on the blueprint defined in ``base``."""
from loyalty.blueprints.merchant import (  # noqa: F401 - they register their routes
    activity,
    alerts,
    birthday,
    branding,
    cards,
    exports,
    fraud_settings,
    happy_hours,
    integrations,
    poster,
    program,
    reports,
    retention,
    statement,
    stores,
    team,
    team_resets,
    texts,
    webhooks,
    win_back,
)
from loyalty.blueprints.merchant.base import bp

__all__ = ["bp"]
