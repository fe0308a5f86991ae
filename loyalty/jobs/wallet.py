"""Wallet passes kept in sync (hourly)."""
from loyalty.jobs.context import job


@job
def sync_wallet_passes():
    """Nothing to sync until the wallet integration lands (its issue fills this in)."""
    return 0
