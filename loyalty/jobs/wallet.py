"""Wallet passes kept in sync (hourly)."""
from loyalty.jobs.context import job
from loyalty.services import wallet_sync


@job
def sync_wallet_passes():
    """Send again the pass updates a failed or lost job left behind."""
    return wallet_sync.sync_due()
