"""Outbox jobs: deliver one row (job id ``outbox-<id>``), and the drain."""
from rq import get_current_job

from loyalty.jobs.context import job
from loyalty.services import job_recovery, outbox


@job
def deliver_outbox(outbox_id):
    """Do one row's work; the last of its attempts marks the row failed if it fails too."""
    current = get_current_job()
    last_attempt = current is None or not current.retries_left
    return outbox.deliver(outbox_id, last_attempt=last_attempt)


@job
def drain_outbox():
    """Every few seconds: put back on their queues the jobs of dead workers and the retries
    that are due, then hand RQ what is pending (Redis was down) or lost."""
    job_recovery.recover()
    return outbox.drain()
