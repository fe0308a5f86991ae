"""Points expiry, run daily by the cron schedule."""
from loyalty.services.points import expire_points


def expire_points_job():
    """Expire inactive cards' points; safe to run twice (the second run finds nothing)."""
    return expire_points()
