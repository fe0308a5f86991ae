"""Outbox jobs: deliver one row (job id ``outbox-<id>``), and the drain."""
import logging

from rq import get_current_job

from loyalty.jobs.context import job
from loyalty.services import outbox
from loyalty.services.delivery import job_recovery

log = logging.getLogger(__name__)


@job
def deliver_outbox(outbox_id):
    """Do one row's work; the last of its attempts marks the row failed if it fails too."""
    current = get_current_job()
    last_attempt = current is None or not current.retries_left
    return outbox.deliver(outbox_id, last_attempt=last_attempt)


@job
def drain_outbox():
    """Every few seconds: put back on their queues the jobs of dead workers and the retries
    that are due, then hand RQ what is pending (Redis was down) or lost. A recovery that
    fails (a job RQ cannot read back, say) is logged and never stops the drain itself."""
    if outbox.jobs_inline():  # no RQ: no dead worker's job, no retry waiting on a queue
        return outbox.drain()
    try:
        job_recovery.recover()
    except Exception:  # noqa: BLE001 - the drain must go on whatever recovery met
        log.exception("Recovering abandoned jobs failed; the outbox is drained all the same")
    return outbox.drain()
