"""Wallet passes kept in sync (hourly)."""
from loyalty.jobs.context import job
from loyalty.services import wallet_sync


@job
def sync_wallet_passes():
    """Send again the pass updates a failed or lost job left behind, and ask Google how the
    review of its classes went."""
    asked = wallet_sync.sync_due()
    wallet_sync.refresh_google_reviews()
    return asked
