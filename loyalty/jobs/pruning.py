"""The daily pruning of tables that would otherwise grow forever."""
from loyalty.jobs.context import job
from loyalty.services.platform import pruning


@job
def prune_old_rows():
    """Daily: delete or empty what the ``PRUNE_*`` settings say is old enough; never the
    ledger or the audit log."""
    return pruning.prune_all()
