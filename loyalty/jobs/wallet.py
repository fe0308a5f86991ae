"""Wallet passes kept in sync (hourly)."""
import logging

from loyalty.jobs.context import job
from loyalty.services.wallets import sync as wallet_sync

log = logging.getLogger(__name__)


@job
def sync_wallet_passes():
    """Send again the pass updates a failed or lost job left behind, and ask Google how the
    review of its classes went."""
    asked = wallet_sync.sync_due()
    try:  # Google slow or odd: the passes are in sync all the same, the reviews wait an hour
        wallet_sync.refresh_google_reviews()
    except Exception:  # noqa: BLE001
        log.exception("Asking Google about class reviews failed; asked again next hour")
    return asked
