"""The API's housekeeping: forget the Idempotency-Key answers past their keeping time."""
from loyalty.jobs.context import job
from loyalty.services.integrations import idempotency


@job
def purge_idempotency_keys():
    """Hourly: delete the kept answers older than ``idempotency.KEEP_FOR`` (48 hours, so a
    key is honoured for at least a day whatever the hour it came)."""
    return idempotency.purge()
